// "Copy" buttons (the ready social media posts, a new API key). Without this script the buttons stay hidden
// and the text is selectable in its read-only box.
(function () {
  "use strict";
  function copied(id, words) {
    var status = document.querySelector('[data-copied="' + id + '"]');
    if (status) status.textContent = words;
  }
  function copy(box) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(box.value);
    }
    box.focus();
    box.select();
    return document.execCommand("copy") ? Promise.resolve() : Promise.reject();
  }
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    var box = document.getElementById(button.dataset.copy);
    if (!box) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      copy(box).then(function () {
        copied(button.dataset.copy, "Copied.");
      }, function () {
        box.focus();
        box.select();
        copied(button.dataset.copy, "Selected: press Ctrl+C (or ⌘C) to copy.");
      });
    });
  });
})();
