// The header's menu (base.html). Without this file the menu is an open <details>: every
// link is reachable. With it: on a phone the menu starts closed behind its button and opens
// with every group unfolded; on a desktop the groups are drop-downs, one open at a time,
// closed by a click elsewhere or Escape.
document.documentElement.classList.add("js");

document.addEventListener("DOMContentLoaded", () => {
  const menu = document.querySelector("header.top details.menu");
  if (!menu) return;
  const groups = Array.from(menu.querySelectorAll("details.menu-group"));
  const phone = window.matchMedia("(max-width: 900px)");

  function fit() {
    menu.open = !phone.matches;
    groups.forEach((g) => { g.open = phone.matches; });
  }
  fit();
  phone.addEventListener("change", fit);
  document.documentElement.classList.add("menu-ready");

  groups.forEach((group) => {
    group.addEventListener("toggle", () => {
      if (!phone.matches && group.open) {
        groups.forEach((other) => { if (other !== group) other.open = false; });
      }
    });
  });
  function closeGroups() {
    if (!phone.matches) groups.forEach((g) => { g.open = false; });
  }
  document.addEventListener("click", (event) => {
    if (!menu.contains(event.target)) closeGroups();
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape") closeGroups();
  });
});
