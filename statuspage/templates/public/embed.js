/* Service status banner. Add <script src="…/embed/AGENCY.js" defer></script> where it should show. */
(function () {
  "use strict";
  var notices = {{ notices|tojson }};
  if (!notices.length) return;
  var here = document.currentScript;
  var box = document.createElement("div");
  box.setAttribute("role", "status");
  box.style.cssText = "border:4px solid #0b0c0c;background:#ffdd00;color:#0b0c0c;padding:12px 16px;margin:8px 0;font:16px/1.4 system-ui,Arial,sans-serif";
  var heading = document.createElement("strong");
  heading.textContent = notices.length === 1 ? "A service has a problem: " : notices.length + " services have problems: ";
  box.appendChild(heading);
  notices.forEach(function (notice, index) {
    var link = document.createElement("a");
    link.href = notice.url;
    link.textContent = notice.title + " (" + notice.status + ")";
    link.style.color = "#0b0c0c";
    if (index) box.appendChild(document.createTextNode("; "));
    box.appendChild(link);
    if (notice.expected) box.appendChild(document.createTextNode(" " + notice.expected));
  });
  var more = document.createElement("a");
  more.href = {{ status_url|tojson }};
  more.textContent = "Service status";
  more.style.cssText = "color:#0b0c0c;margin-left:12px";
  box.appendChild(more);
  if (here && here.parentNode) here.parentNode.insertBefore(box, here);
  else document.body.insertBefore(box, document.body.firstChild);
})();
