/* The payment step (templates/payments/pay.html): Stripe.js collects the card, the
   server confirms the payment (views/payments.py), and Stripe.js does 3-D Secure when
   the bank asks for it. The hold's countdown runs here too. The page's <script src>
   loads Stripe.js (from the form's data-stripe-js) before this file. */
(function () {
  "use strict";

  const form = document.getElementById("pay-form");
  if (!form) return;
  const button = form.querySelector("button[type=submit]");
  const message = document.getElementById("pay-error");
  const label = button.textContent;
  let busy = false;
  let expired = false;

  function csrfToken() {
    return form.querySelector("input[name=csrf_token]").value;
  }

  function showError(text) {
    message.textContent = text;
    message.hidden = false;
  }

  function setBusy(on) {
    busy = on;
    button.disabled = on || expired;
    button.setAttribute("aria-busy", on ? "true" : "false");
    button.textContent = on ? button.dataset.busy : label;
  }

  // POST JSON to the server; the answer's body, with its HTTP status as "http".
  async function post(url, body) {
    const response = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(body || {}),
    });
    const answer = await response.json().catch(() => ({}));
    answer.http = response.status;
    return answer;
  }

  function failure(answer) {
    return answer.message || "The payment did not go through. Please try again.";
  }

  // After the server's answer: done (go on), 3-D Secure (then ask the server again),
  // or a message under the card field with everything left as it was.
  async function settle(stripe, answer) {
    if (answer.status === "requires_action" && answer.client_secret) {
      await stripe.confirmCardPayment(answer.client_secret);
      // Whatever Stripe.js says, the server asks Stripe and decides.
      answer = await post(form.dataset.checkUrl);
    }
    if (answer.status === "succeeded" && answer.next) {
      window.location.assign(answer.next);
      return true;
    }
    if (answer.http >= 400) showError(failure(answer));
    else showError("The payment is not complete yet. Please try again.");
    return false;
  }

  async function payWith(stripe, body) {
    try {
      return await settle(stripe, await post(form.dataset.payUrl, body));
    } catch (error) {
      console.warn("Kairos: payment failed", error);
      showError("We could not reach the payment service. Your card was not charged; please try again.");
      return false;
    }
  }

  async function payByCard(stripe, card, event) {
    event.preventDefault();
    // app.js's "no double submit" is not for this form: it stays on the page.
    event.stopPropagation();
    if (busy || expired) return;
    message.hidden = true;
    setBusy(true);
    let done = false;
    try {
      const made = await stripe.createToken(card);
      if (made.error) showError(made.error.message || "Please check your card details.");
      else done = await payWith(stripe, { token: made.token.id });
    } catch (error) {
      showError("Please enter your card details.");
    }
    if (!done) setBusy(false);
  }

  // Apple Pay and Google Pay, where the browser offers them: only Stripe's own
  // Stripe.js has paymentRequest (localstripe, which the tests use, has not), so this
  // part is not tested here.
  function offerWallet(stripe, elements) {
    if (typeof stripe.paymentRequest !== "function") return;
    const request = stripe.paymentRequest({
      country: form.dataset.country,
      currency: form.dataset.currency,
      total: { label: form.dataset.label, amount: Number(form.dataset.amount) },
    });
    request.canMakePayment().then((can) => {
      if (!can) return;
      elements.create("paymentRequestButton", { paymentRequest: request }).mount("#wallet-button");
      document.querySelector("[data-wallet]").hidden = false;
    }).catch(() => {});
    request.on("paymentmethod", async (event) => {
      if (busy || expired) { event.complete("fail"); return; }
      message.hidden = true;
      setBusy(true);
      const answer = await post(form.dataset.payUrl, { payment_method: event.paymentMethod.id })
        .catch(() => ({ http: 503 }));
      event.complete(answer.http >= 400 ? "fail" : "success");  // closes the wallet's sheet
      if (!(await settle(stripe, answer).catch(() => false))) setBusy(false);
    });
  }

  function start() {
    if (typeof window.Stripe !== "function") {
      showError("Card payment could not load. Check your connection and reload the page.");
      return;
    }
    const stripe = window.Stripe(form.dataset.key);
    const elements = stripe.elements();
    const card = elements.create("card");
    card.mount("#card-element");
    card.on("change", (event) => {
      if (event && event.error) showError(event.error.message);
      else if (!busy) message.hidden = true;
    });
    form.addEventListener("submit", (event) => payByCard(stripe, card, event));
    offerWallet(stripe, elements);
    setBusy(false);
  }

  // The hold: the server counted the seconds left; at 0 the time has run out.
  function countdown() {
    const hold = document.querySelector("[data-seconds-left]");
    const shown = hold.querySelector("[data-countdown]");
    const ends = Date.now() + Number(hold.dataset.secondsLeft) * 1000;
    function tick() {
      const left = Math.max(0, Math.round((ends - Date.now()) / 1000));
      shown.textContent = String(Math.floor(left / 60)).padStart(2, "0") + ":" +
        String(left % 60).padStart(2, "0");
      if (left > 0) return;
      clearInterval(timer);
      expired = true;
      if (!busy) button.disabled = true;  // a payment already sent is left to finish
      hold.querySelector("[data-hold-running]").hidden = true;
      hold.querySelector("[data-hold-expired]").hidden = false;
      document.querySelector("[data-give-up]").hidden = true;  // nothing left to release
    }
    const timer = setInterval(tick, 1000);
    tick();
  }

  countdown();
  if (!expired) start();
})();
