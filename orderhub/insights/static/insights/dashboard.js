/* Draws the dashboard charts with Chart.js (served from npm's node_modules under static/vendor/). */
(function () {
  "use strict";
  var holder = document.getElementById("chart-data");
  if (!holder || typeof Chart === "undefined") { return; }
  var data = JSON.parse(holder.textContent);
  var dark = document.body.classList.contains("meeting");
  var ink = dark ? "#e6edf3" : "#1f2328";
  var grid = dark ? "#24324f" : "#d8dee4";
  Chart.defaults.color = ink;
  Chart.defaults.borderColor = grid;
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  var colours = { "50": "#1a7f37", "95": "#d4a72c", "99": "#cf222e" };

  function lines(id, series, unit) {
    var el = document.getElementById(id);
    if (!el) { return; }
    new Chart(el, {
      type: "line",
      data: {
        labels: data.days,
        datasets: Object.keys(series).map(function (p) {
          return { label: "P" + p, data: series[p], borderColor: colours[p], backgroundColor: colours[p],
                   spanGaps: true, tension: 0.2 };
        })
      },
      options: { maintainAspectRatio: false, animation: false,
                 scales: { y: { beginAtZero: true, title: { display: true, text: unit } } } }
    });
  }

  lines("chart-ship", data.ship, "小时");
  lines("chart-complete", data.complete, "小时");

  var volume = document.getElementById("chart-volume");
  if (volume) {
    new Chart(volume, {
      type: "bar",
      data: { labels: data.days, datasets: [
        { label: "进单", data: data.orders_in, backgroundColor: "#1d4ed8" },
        { label: "发货", data: data.shipped, backgroundColor: "#1a7f37" }
      ] },
      options: { maintainAspectRatio: false, animation: false, scales: { y: { beginAtZero: true } } }
    });
  }
  var dwell = document.getElementById("chart-dwell");
  if (dwell) {
    new Chart(dwell, {
      type: "bar",
      data: { labels: data.stages, datasets: [
        { label: "平均", data: data.dwell_avg, backgroundColor: "#1d4ed8" },
        { label: "P95", data: data.dwell_p95, backgroundColor: "#d4a72c" }
      ] },
      options: { maintainAspectRatio: false, animation: false, indexAxis: "y",
                 scales: { x: { beginAtZero: true, title: { display: true, text: "小时" } } } }
    });
  }
})();
