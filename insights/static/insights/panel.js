// Close the Quick Insights panel with its close button or Escape. A file of ours, not an inline
// handler: the pages run under a Content-Security-Policy that allows no inline script.
document.addEventListener("click", (event) => {
  if (event.target.closest("[data-quick-insights-close]")) {
    document.getElementById("quick-insights-panel").hidden = true;
  }
});
// Escape closes the drawer on the dashboard; on /insights/ the panel is the page's content and stays.
document.addEventListener("keydown", (event) => {
  const panel = document.getElementById("quick-insights-panel");
  if (event.key === "Escape" && panel && panel.closest(".site-header")) panel.hidden = true;
});
