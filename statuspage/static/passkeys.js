// Passkeys: asks the browser to make or use one for a form marked data-passkey="create" or "get",
// then posts the form with the browser's answer as JSON. The options come from the page (a JSON
// data block); the server checks the answer. Without this script the form says passkeys need it.
(function () {
  "use strict";
  if (!window.PublicKeyCredential || !navigator.credentials) return;

  function toBytes(base64url) {
    var base64 = base64url.replace(/-/g, "+").replace(/_/g, "/");
    var binary = atob(base64 + "====".slice(base64.length % 4 || 4));
    return Uint8Array.from(binary, function (c) { return c.charCodeAt(0); });
  }
  function toBase64url(buffer) {
    var binary = "";
    new Uint8Array(buffer).forEach(function (b) { binary += String.fromCharCode(b); });
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function withBytes(list) {
    return (list || []).map(function (c) { return Object.assign({}, c, { id: toBytes(c.id) }); });
  }
  function answer(credential) {
    var r = credential.response, out = {
      id: credential.id, rawId: toBase64url(credential.rawId), type: credential.type,
      clientExtensionResults: credential.getClientExtensionResults(),
      authenticatorAttachment: credential.authenticatorAttachment || undefined,
      response: { clientDataJSON: toBase64url(r.clientDataJSON) }
    };
    if (r.attestationObject) {
      out.response.attestationObject = toBase64url(r.attestationObject);
      out.response.transports = r.getTransports ? r.getTransports() : [];
    } else {
      out.response.authenticatorData = toBase64url(r.authenticatorData);
      out.response.signature = toBase64url(r.signature);
      if (r.userHandle) out.response.userHandle = toBase64url(r.userHandle);
    }
    return JSON.stringify(out);
  }

  document.querySelectorAll("form[data-passkey]").forEach(function (form) {
    var status = form.querySelector("[data-passkey-status]");
    form.addEventListener("submit", function (event) {
      if (form.elements.credential.value) return;  // the answer is in: post it
      event.preventDefault();
      var options = JSON.parse(document.getElementById(form.dataset.options).textContent);
      options.challenge = toBytes(options.challenge);
      var ask;
      if (form.dataset.passkey === "create") {
        options.user.id = toBytes(options.user.id);
        options.excludeCredentials = withBytes(options.excludeCredentials);
        ask = navigator.credentials.create({ publicKey: options });
      } else {
        options.allowCredentials = withBytes(options.allowCredentials);
        ask = navigator.credentials.get({ publicKey: options });
      }
      if (status) status.textContent = "Waiting for your passkey…";
      ask.then(function (credential) {
        form.elements.credential.value = answer(credential);
        form.submit();
      }, function (error) {
        if (status) {
          status.textContent = error && error.name === "NotAllowedError"
            ? "No passkey was used (cancelled, or it took too long). Try again."
            : "Your browser could not use a passkey here: " + (error && error.message || error);
        }
      });
    });
  });
})();
