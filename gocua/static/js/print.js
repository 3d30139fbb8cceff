// The print button of printable pages (no inline script: the pages' CSP forbids it).
document.getElementById("print")?.addEventListener("click", () => window.print());
