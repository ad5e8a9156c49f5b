// The main menu on small screens: one button shows and hides it (Escape closes it). On wide screens the
// button is not displayed and the menu is laid out inline by the stylesheet. Without this script the
// menu stays open: the stylesheet hides it only under html.js.
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  const toggle = document.querySelector(".menu-toggle");
  const menu = document.getElementById("main-menu");
  if (!toggle || !menu) return;
  const groups = menu.querySelectorAll(".nav-group details");

  // A menu group open on a wide screen closes when you click elsewhere or press Escape, as a menu does.
  document.addEventListener("click", function (event) {
    groups.forEach(function (group) {
      if (group.open && !group.contains(event.target)) group.open = false;
    });
  });

  function show(open) {
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
    menu.classList.toggle("open", open);
  }

  toggle.addEventListener("click", function () {
    show(toggle.getAttribute("aria-expanded") !== "true");
  });
  document.addEventListener("keydown", function (event) {
    const group = Array.prototype.find.call(groups, function (g) { return g.open; });
    if (event.key === "Escape" && group) {
      group.open = false;
      group.querySelector("summary").focus();
      return;
    }
    if (event.key === "Escape" && toggle.getAttribute("aria-expanded") === "true") {
      show(false);
      toggle.focus();
    }
  });
})();
