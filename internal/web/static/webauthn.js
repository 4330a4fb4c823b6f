// Passkeys and security keys (WebAuthn). Progressive enhancement: the
// buttons exist only where the browser supports WebAuthn; everything else
// on the pages works without this script.
"use strict";
(function () {
  if (!window.PublicKeyCredential) return;
  function fromB64url(s) {
    s = s.replace(/-/g, "+").replace(/_/g, "/");
    while (s.length % 4) s += "=";
    const bin = atob(s);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out.buffer;
  }
  function toB64url(buf) {
    const bytes = new Uint8Array(buf);
    let bin = "";
    for (let i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  async function post(url, body) {
    const res = await fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json" },
      body: body ? JSON.stringify(body) : "{}",
    });
    const data = await res.json().catch(() => ({}));
    if (!res.ok) throw data;
    return data;
  }
  function fail(el) {
    const msg = document.getElementById(el.dataset.error);
    if (msg) msg.hidden = false;
  }
  const register = document.getElementById("passkey-register");
  if (register) {
    register.hidden = false;
    register.addEventListener("click", async () => {
      try {
        const opts = await post("/account/mfa/webauthn/begin");
        const pk = opts.publicKey;
        pk.challenge = fromB64url(pk.challenge);
        pk.user.id = fromB64url(pk.user.id);
        (pk.excludeCredentials || []).forEach((c) => (c.id = fromB64url(c.id)));
        const cred = await navigator.credentials.create({ publicKey: pk });
        const done = await post("/account/mfa/webauthn/finish", {
          id: cred.id, rawId: toB64url(cred.rawId), type: cred.type,
          response: {
            clientDataJSON: toB64url(cred.response.clientDataJSON),
            attestationObject: toB64url(cred.response.attestationObject),
          },
        });
        window.location = done.next;
      } catch (e) { fail(register); }
    });
  }
  const signin = document.getElementById("passkey-signin");
  if (signin) {
    signin.hidden = false;
    signin.addEventListener("click", async () => {
      try {
        const opts = await post("/signin/mfa/webauthn/begin");
        const pk = opts.publicKey;
        pk.challenge = fromB64url(pk.challenge);
        (pk.allowCredentials || []).forEach((c) => (c.id = fromB64url(c.id)));
        const cred = await navigator.credentials.get({ publicKey: pk });
        const done = await post("/signin/mfa/webauthn/finish", {
          id: cred.id, rawId: toB64url(cred.rawId), type: cred.type,
          response: {
            clientDataJSON: toB64url(cred.response.clientDataJSON),
            authenticatorData: toB64url(cred.response.authenticatorData),
            signature: toB64url(cred.response.signature),
            userHandle: cred.response.userHandle ? toB64url(cred.response.userHandle) : null,
          },
        });
        window.location = done.next;
      } catch (e) { fail(signin); }
    });
  }
})();
