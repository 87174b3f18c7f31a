/* Passkeys (issue 17): "Sign in with a passkey" and the email field's autofill on the
   sign-in page, "Add a passkey" in Account → Sign-in methods. The server's options come
   as JSON (binary values in base64url); the browser's answer goes back the same way, to
   same-origin endpoints with the CSRF token. The buttons start hidden: they are shown
   only where the browser has passkeys. A sheet closed without a passkey is no error. */
(function () {
  "use strict";

  if (window.__kairosPasskeys) return;  // the partial may be on a page twice
  window.__kairosPasskeys = true;
  if (!window.PublicKeyCredential || !navigator.credentials) return;

  // base64url <-> bytes, for browsers without the JSON helpers of WebAuthn level 3.
  function toBytes(text) {
    const base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    const padded = base64 + "===".slice((base64.length + 3) % 4);
    return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0)).buffer;
  }

  function toText(buffer) {
    if (!buffer) return null;
    let binary = "";
    new Uint8Array(buffer).forEach((byte) => { binary += String.fromCharCode(byte); });
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function withIds(list) {
    return (list || []).map((c) => Object.assign({}, c, { id: toBytes(c.id) }));
  }

  function creationOptions(json) {
    if (PublicKeyCredential.parseCreationOptionsFromJSON) {
      return PublicKeyCredential.parseCreationOptionsFromJSON(json);
    }
    return Object.assign({}, json, {
      challenge: toBytes(json.challenge),
      user: Object.assign({}, json.user, { id: toBytes(json.user.id) }),
      excludeCredentials: withIds(json.excludeCredentials),
    });
  }

  function requestOptions(json) {
    if (PublicKeyCredential.parseRequestOptionsFromJSON) {
      return PublicKeyCredential.parseRequestOptionsFromJSON(json);
    }
    return Object.assign({}, json, {
      challenge: toBytes(json.challenge),
      allowCredentials: withIds(json.allowCredentials),
    });
  }

  function credentialJSON(credential) {
    if (typeof credential.toJSON === "function") {
      try { return credential.toJSON(); } catch (error) { /* written out below */ }
    }
    const r = credential.response;
    const response = { clientDataJSON: toText(r.clientDataJSON) };
    if (r.attestationObject) {
      response.attestationObject = toText(r.attestationObject);
      response.transports = typeof r.getTransports === "function" ? r.getTransports() : [];
    } else {
      response.authenticatorData = toText(r.authenticatorData);
      response.signature = toText(r.signature);
      response.userHandle = toText(r.userHandle);
    }
    return {
      id: credential.id,
      rawId: toText(credential.rawId),
      type: credential.type,
      response: response,
      authenticatorAttachment: credential.authenticatorAttachment || null,
      clientExtensionResults: credential.getClientExtensionResults(),
    };
  }

  function csrfToken() {
    const input = document.querySelector("input[name=csrf_token]");
    if (input) return input.value;
    const headers = document.body.getAttribute("hx-headers:inherited") || "{}";
    return JSON.parse(headers)["X-CSRFToken"] || "";
  }

  async function post(url, body) {
    let response;
    try {
      response = await fetch(url, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
        body: JSON.stringify(body || {}),
      });
    } catch (error) {
      return { ok: false, body: { message: "You seem to be offline. Please try again." } };
    }
    const answer = await response.json().catch(() => ({}));
    return { ok: response.ok, status: response.status, body: answer };
  }

  function problem(answer) {
    const fields = answer.body.fields;
    if (fields) return Object.values(fields)[0];
    return answer.body.message || "That didn't work. Please try again in a moment.";
  }

  function say(status, text, isProblem) {
    status.textContent = text;
    status.classList.toggle("problem", Boolean(isProblem));
  }

  // Passkeys are bound to the relying party's host: on another (the app opened by its IP
  // address while BASE_URL names localhost, say) the browser refuses them.
  function onOurHost(element) {
    const rpId = element.dataset.rpId;
    const host = window.location.hostname;
    return Boolean(rpId) && (host === rpId || host.endsWith("." + rpId));
  }

  // Signing in ---------------------------------------------------------------------------

  const area = document.querySelector("[data-passkey-sign-in-area]");
  if (area && onOurHost(area)) {
    const button = area.querySelector("[data-passkey-sign-in]");
    const status = area.querySelector("[data-passkey-status]");
    let waiting = null;  // the pending request of the autofill, or of the button
    let renewal = null;  // the autofill's challenge is renewed before it expires

    async function signIn(conditional) {
      clearTimeout(renewal);
      if (waiting) waiting.abort();
      const controller = new AbortController();
      waiting = controller;
      if (!conditional) {
        button.disabled = true;
        say(status, "Waiting for your passkey…");
      }
      try {
        await ceremony(conditional, controller);
      } finally {
        if (!conditional) button.disabled = false;
      }
    }

    async function ceremony(conditional, controller) {
      const options = await post(area.dataset.options);
      if (controller.signal.aborted) return;  // replaced meanwhile
      if (!options.ok) {
        if (!conditional) say(status, problem(options), true);
        return;
      }
      if (conditional) {
        renewal = setTimeout(() => signIn(true), Math.max(30000, (options.body.timeout || 300000) - 30000));
      }
      let credential;
      try {
        credential = await navigator.credentials.get({
          publicKey: requestOptions(options.body),
          mediation: conditional ? "conditional" : "optional",
          signal: controller.signal,
        });
      } catch (error) {
        if (error.name === "AbortError" || controller.signal.aborted) return;  // replaced
        if (!conditional) {
          say(status, error.name === "NotAllowedError"
            ? "No passkey was used. You can try again, or sign in another way."
            : "This browser couldn't use a passkey here. Please sign in another way.");
          offerAutofill();
        }
        return;
      }
      clearTimeout(renewal);
      if (!credential) return;
      say(status, "Signing you in…");
      const remember = document.getElementById("sign-in-remember");
      const answer = await post(area.dataset.verify, {
        credential: credentialJSON(credential),
        next: area.dataset.next || "",
        remember: Boolean(remember && remember.checked),
      });
      if (answer.ok && answer.body.redirect) {
        window.location.assign(answer.body.redirect);
        return;
      }
      say(status, problem(answer), true);
      if (answer.status === 404 && PublicKeyCredential.signalUnknownCredential) {
        // Removed here: the device may forget it too, so it stops offering it.
        PublicKeyCredential.signalUnknownCredential({
          rpId: options.body.rpId, credentialId: credential.id,
        }).catch(() => {});
      }
      offerAutofill();
    }

    async function offerAutofill() {
      const available = PublicKeyCredential.isConditionalMediationAvailable &&
        await PublicKeyCredential.isConditionalMediationAvailable().catch(() => false);
      if (available && document.querySelector("input[autocomplete~=webauthn]")) signIn(true);
    }

    button.hidden = false;
    // The "or with your email" line, hidden while the passkey was the only other way in.
    const divider = area.closest(".sign-in-ways")?.querySelector(".or-divider");
    if (divider) divider.hidden = false;
    button.addEventListener("click", () => signIn(false));
    offerAutofill();
  }

  // Adding a passkey -----------------------------------------------------------------------

  const add = document.querySelector("[data-passkey-add]");
  if (add && onOurHost(add)) {
    const button = add.querySelector("[data-passkey-add-button]");
    const status = add.querySelector("[data-passkey-status]");
    const name = add.querySelector("[data-passkey-name]");

    async function addPasskey() {
      name.removeAttribute("aria-invalid");
      const options = await post(add.dataset.options);
      if (!options.ok) {
        say(status, problem(options), true);
        return;
      }
      let credential;
      try {
        credential = await navigator.credentials.create({ publicKey: creationOptions(options.body) });
      } catch (error) {
        say(status, error.name === "InvalidStateError"
          ? "This device already has a passkey for your account."
          : error.name === "NotAllowedError"
            ? "No passkey was added. You can try again when you're ready."
            : "This browser couldn't make a passkey. Please try another device.");
        return;
      }
      say(status, "Saving your passkey…");
      const answer = await post(add.dataset.verify, {
        credential: credentialJSON(credential),
        name: name.value,
      });
      if (answer.ok && answer.body.redirect) {
        window.location.assign(answer.body.redirect);
        return;
      }
      if (answer.body.fields && answer.body.fields.name) name.setAttribute("aria-invalid", "true");
      say(status, problem(answer), true);
    }

    add.hidden = false;
    button.addEventListener("click", async () => {
      button.disabled = true;
      try { await addPasskey(); } finally { button.disabled = false; }
    });
  }
})();
