// Security keys: the browser's WebAuthn calls for the pages that need them. The pages work
// under a CSP without inline script, so the options come in the form's data-options, and the
// answer goes back in its hidden `webauthn` field, posted with the form (and its CSRF token).
// Binary fields travel as unpadded base64url, the JSON shapes webauthn-rs reads.
(function () {
  "use strict";

  function bytes(text) {
    var b64 = text.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) b64 += "=";
    var raw = atob(b64);
    var out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
    return out.buffer;
  }

  function text(buffer) {
    var view = new Uint8Array(buffer);
    var raw = "";
    for (var i = 0; i < view.length; i++) raw += String.fromCharCode(view[i]);
    return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function withIds(list) {
    return (list || []).map(function (c) {
      return Object.assign({}, c, { id: bytes(c.id) });
    });
  }

  function creationOptions(options) {
    var pk = Object.assign({}, options.publicKey);
    pk.challenge = bytes(pk.challenge);
    pk.user = Object.assign({}, pk.user, { id: bytes(pk.user.id) });
    pk.excludeCredentials = withIds(pk.excludeCredentials);
    return { publicKey: pk };
  }

  function requestOptions(options) {
    var pk = Object.assign({}, options.publicKey);
    pk.challenge = bytes(pk.challenge);
    pk.allowCredentials = withIds(pk.allowCredentials);
    return { publicKey: pk };
  }

  function attestation(cred) {
    var ext = cred.getClientExtensionResults ? cred.getClientExtensionResults() : {};
    var r = cred.response;
    return {
      id: cred.id,
      rawId: text(cred.rawId),
      type: cred.type,
      response: {
        attestationObject: text(r.attestationObject),
        clientDataJSON: text(r.clientDataJSON),
        transports: r.getTransports ? r.getTransports() : undefined
      },
      extensions: ext && ext.credProps ? { credProps: ext.credProps } : {}
    };
  }

  function assertion(cred) {
    var r = cred.response;
    return {
      id: cred.id,
      rawId: text(cred.rawId),
      type: cred.type,
      response: {
        authenticatorData: text(r.authenticatorData),
        clientDataJSON: text(r.clientDataJSON),
        signature: text(r.signature),
        userHandle: r.userHandle ? text(r.userHandle) : null
      },
      extensions: {}
    };
  }

  function say(form, message) {
    var status = document.getElementById(form.dataset.status);
    if (!status) return;
    status.textContent = message;
    status.hidden = !message;
  }

  function start(form, event) {
    if (form.dataset.answered === "yes") return;
    event.preventDefault();
    if (!window.PublicKeyCredential || !navigator.credentials) {
      say(form, form.dataset.unsupported);
      return;
    }
    var button = form.querySelector("button[type=submit]");
    var create = form.dataset.webauthn === "create";
    var options = JSON.parse(form.dataset.options);
    say(form, form.dataset.working);
    if (button) button.disabled = true;
    var call = create
      ? navigator.credentials.create(creationOptions(options))
      : navigator.credentials.get(requestOptions(options));
    call.then(function (cred) {
      form.elements.webauthn.value = JSON.stringify(create ? attestation(cred) : assertion(cred));
      form.dataset.answered = "yes";
      form.submit();
    }).catch(function () {
      say(form, form.dataset.failed);
      if (button) {
        button.disabled = false;
        button.focus();
      }
    });
  }

  var forms = document.querySelectorAll("form[data-webauthn]");
  for (var i = 0; i < forms.length; i++) {
    forms[i].addEventListener("submit", start.bind(null, forms[i]));
  }
})();
