/* Service status banner. Add <script src="…/embed/AGENCY.js" defer></script> (or
   …/embed/services/SERVICE.js) where it should show. It shows only while something is wrong or
   maintenance runs or is planned; colour, words and an icon shape always say the same. */
(function () {
  "use strict";
  var banner = {{ banner|tojson }};
  if (!banner) return;
  var colours = {
    red: ["#c0281a", "#fff"], yellow: ["#ffdd00", "#0b0c0c"], blue: ["#1d70b8", "#fff"],
    green: ["#fff", "#0b0c0c"]
  };
  var shapes = {
    check: '<circle cx="10" cy="10" r="9" fill="currentColor"/><path d="M5.5 10.5l3 3 6-7" fill="none" stroke="STROKE" stroke-width="2.4"/>',
    triangle: '<path d="M10 1.5L19 18H1z" fill="currentColor"/><path d="M10 7v5.5M10 14.5v2" stroke="STROKE" stroke-width="2.2"/>',
    diamond: '<path d="M10 0.5L19.5 10 10 19.5 0.5 10z" fill="currentColor"/><path d="M10 5.5v6M10 13v2" stroke="STROKE" stroke-width="2.2"/>',
    cross: '<path d="M6 1h8l5 5v8l-5 5H6l-5-5V6z" fill="currentColor"/><path d="M6.5 6.5l7 7M13.5 6.5l-7 7" stroke="STROKE" stroke-width="2.4"/>',
    wrench: '<rect x="1" y="1" width="18" height="18" rx="3" fill="currentColor"/><path d="M5 10h10M10 5v10" stroke="STROKE" stroke-width="2.4"/>'
  };
  var colour = colours[banner.colour] || colours.green;
  var here = document.currentScript;
  var box = document.createElement("div");
  box.setAttribute("role", "status");
  box.setAttribute("data-status", banner.status);
  box.style.cssText = "border:4px solid #0b0c0c;background:" + colour[0] + ";color:" + colour[1] +
    ";padding:12px 16px;margin:8px 0;font:16px/1.4 system-ui,Arial,sans-serif";
  function line(parent) {
    var p = document.createElement("p");
    p.style.margin = "4px 0";
    parent.appendChild(p);
    return p;
  }
  function link(parent, href, text) {
    var a = document.createElement("a");
    a.href = href;
    a.textContent = text;
    a.style.color = colour[1];
    parent.appendChild(a);
  }
  var headline = line(box);
  headline.style.cssText = "margin:4px 0;font-weight:700;display:flex;align-items:center;gap:8px";
  var icon = document.createElement("span");
  icon.setAttribute("aria-hidden", "true");
  icon.style.cssText = "display:inline-flex;width:22px;height:22px;flex:none;color:" +
    (banner.colour === "green" ? "#00703c" : colour[1]);
  icon.innerHTML = '<svg viewBox="0 0 20 20" width="22" height="22" focusable="false">' +
    (shapes[banner.icon] || "").replace("STROKE", colour[0] === "#fff" ? "#fff" : colour[0]) + "</svg>";
  headline.appendChild(icon);
  var words = document.createElement("span");
  words.textContent = banner.headline + " · " + banner.name;
  headline.appendChild(words);
  if (banner.incidents.length) {
    var problems = line(box);
    problems.appendChild(document.createTextNode(banner.incidents.length === 1
      ? "A service has a problem: " : banner.incidents.length + " services have problems: "));
    banner.incidents.forEach(function (notice, index) {
      if (index) problems.appendChild(document.createTextNode("; "));
      link(problems, notice.url, notice.title);
      problems.appendChild(document.createTextNode(" (" + (notice.impact ? notice.impact + ", " : "") +
        notice.status.toLowerCase() + ")" + (notice.expected ? " " + notice.expected : "")));
    });
  }
  [["running", "Maintenance in progress: "], ["upcoming", "Planned maintenance: "]].forEach(function (kind) {
    banner[kind[0]].forEach(function (window_) {
      var p = line(box);
      p.appendChild(document.createTextNode(kind[1]));
      link(p, window_.url, window_.title);
      p.appendChild(document.createTextNode(" (" + window_.services + ") " + window_.when + "."));
    });
  });
  link(line(box), banner.status_url, "Service status");
  if (here && here.parentNode) here.parentNode.insertBefore(box, here);
  else document.body.insertBefore(box, document.body.firstChild);
})();
