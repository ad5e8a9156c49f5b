// Keyboard shortcuts for the approvals inbox: j / k move between requests, a approves the current one, r puts
// the cursor in its reason to reject it (Ctrl+Enter then rejects), x ticks it for a decision on several, ?
// shows the list. None of them fires while the person types in a box, or with Ctrl, Alt or Cmd held.
(function () {
  "use strict";
  const inbox = document.querySelector("[data-rows-url]");
  const help = document.getElementById("shortcuts");
  if (!inbox || !help) return;
  const REJECT_HINT = "Type why you reject it, then press Ctrl+Enter (or Reject).";

  function typing(target) {
    return target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].indexOf(target.tagName) >= 0;
  }

  function open(card) {
    return !card.classList.contains("gone") && !card.classList.contains("decided");
  }

  function currentCard() {
    const focused = document.activeElement && document.activeElement.closest("li[data-approval-id]");
    return focused || inbox.querySelector("li.current[data-approval-id]");
  }

  function moveTo(card) {
    if (!card) return;
    inbox.querySelectorAll("li.current").forEach(function (li) { li.classList.remove("current"); });
    card.classList.add("current");
    card.focus({ preventScroll: true });
    card.scrollIntoView({ block: "nearest" });
  }

  // From the current card (even one just decided) to the next open one in that direction.
  function step(by) {
    const all = Array.from(inbox.querySelectorAll("li[data-approval-id]"));
    let index = all.indexOf(currentCard());
    if (index < 0) index = by > 0 ? -1 : all.length;
    for (let i = index + by; i >= 0 && i < all.length; i += by) {
      if (open(all[i])) {
        moveTo(all[i]);
        return;
      }
    }
  }

  function reject(card) {
    const form = card && card.querySelector("form.decide");
    if (!form) return;
    const box = form.querySelector("textarea");
    form.dataset.verdict = "reject";
    if (box.value.trim()) {
      form.querySelector("button[value=reject]").click();
      return;
    }
    const note = form.querySelector("[data-note=comment]");
    if (note) note.textContent = REJECT_HINT;
    box.focus();
  }

  document.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && event.target.matches("form.decide textarea")) {
      const form = event.target.form;
      if (form.dataset.verdict === "reject") {
        event.preventDefault();
        form.querySelector("button[value=reject]").click();
      }
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target) || help.open) return;
    const card = currentCard();
    switch (event.key) {
      case "j": step(1); break;
      case "k": step(-1); break;
      case "a": {
        const approve = card && card.querySelector("form.decide button[value=approve]");
        if (approve) approve.click();
        break;
      }
      case "r": reject(card); break;
      case "x": {
        const pick = card && card.querySelector("input[type=checkbox][form=bulk]");
        if (pick) {
          pick.checked = !pick.checked;
          pick.dispatchEvent(new Event("change", { bubbles: true }));
        }
        break;
      }
      case "?": help.showModal(); break;
      default: return;
    }
    event.preventDefault();
  });

  document.querySelectorAll(".help-open").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { help.showModal(); });
  });
})();
