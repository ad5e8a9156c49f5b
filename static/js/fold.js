// On a phone, a page's filters start folded so that its first screen shows the results, not the form; a form
// that holds errors stays open, so the person sees what to correct. Elements: <details data-fold-when-narrow open>.
(() => {
  if (!window.matchMedia("(max-width: 640px)").matches) return;
  for (const fold of document.querySelectorAll("details[data-fold-when-narrow]")) {
    if (!fold.querySelector(".error")) fold.open = false;
  }
})();
