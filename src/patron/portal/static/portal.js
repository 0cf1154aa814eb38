// The portal works without this file. It adds a "Copy the link" button where the browser can
// copy (the invite page), and, when the page is shown in the launcher's panel on the
// merchant's site (launcher.js), marks the page as framed (portal.css keeps the panel's close
// button clear) and passes Escape on to the panel: a key pressed inside a frame never reaches
// the page around it, so the panel could not otherwise close on Escape.
(function () {
  var framed = false;
  try {
    framed = window.self !== window.top;
  } catch (error) {
    framed = true;
  }
  if (framed) {
    document.documentElement.classList.add("framed");
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && !event.defaultPrevented) {
        // Nothing secret: any page framing this one may learn that Escape was pressed.
        window.parent.postMessage({ patron: "close" }, "*");
      }
    });
  }
})();

document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    if (!navigator.clipboard) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      var source = document.getElementById(button.getAttribute("data-copy"));
      navigator.clipboard.writeText(source.value).then(function () {
        button.textContent = button.getAttribute("data-copied");
      });
    });
  });
});
