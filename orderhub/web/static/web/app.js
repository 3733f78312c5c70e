/* OrderHub staff pages: keyboard shortcut "/" focuses the search box (as on GitHub or Gmail). */
(function () {
  "use strict";
  document.addEventListener("keydown", function (e) {
    if (e.key !== "/" || e.ctrlKey || e.metaKey || e.altKey) return;
    var t = e.target;
    var typing = t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName));
    if (typing) return;
    var box = document.getElementById("q");
    if (!box) return;
    e.preventDefault();
    box.focus();
    box.select();
  });
})();
