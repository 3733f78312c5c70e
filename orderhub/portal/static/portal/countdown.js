/* Counts down to each order's estimated arrival, once a minute. */
(function () {
  "use strict";
  function tick() {
    var now = Date.now();
    document.querySelectorAll(".countdown[data-eta]").forEach(function (el) {
      var left = Math.max(0, Date.parse(el.getAttribute("data-eta")) - now) / 60000;
      var d = Math.floor(left / 1440), h = Math.floor((left % 1440) / 60), m = Math.floor(left % 60);
      el.textContent = left <= 0 ? "即将送达" : "还有 " + (d ? d + " 天 " : "") + (d || h ? h + " 小时 " : "") + m + " 分钟";
    });
  }
  tick();
  setInterval(tick, 60000);
})();
