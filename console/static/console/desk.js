// The adviser's desk: live fragments on server-sent events, forms sent without leaving the page, keyboard
// shortcuts and the softphone. Plain ES module, no build step: the page works without it, only slower.
"use strict";

const REFRESH_DEBOUNCE_MS = 250;
const desk = document.getElementById("desk");
const announcer = document.getElementById("desk-announcer");
const softphoneStatus = document.getElementById("softphone-status");
const softphoneError = document.getElementById("softphone-error");
const buttons = {
  accept: document.getElementById("accept-call"),
  reject: document.getElementById("reject-call"),
  mute: document.getElementById("mute-call"),
  hangUp: document.getElementById("hang-up"),
};
let refreshTimer = null;
let lastOfferEntry = null;
let phone = null;
let govuk = null;

// -- fragments ------------------------------------------------------------------------------------

function regions() {
  return Array.from(document.querySelectorAll("[data-region]"));
}

function editing(region) {
  // The adviser is typing a wrap-up: a fresh copy of the same wrap-up must not wipe what they have entered.
  if (region.dataset.keepWhileEditing !== "true") return false;
  const form = region.querySelector("form");
  return Boolean(form && (form.contains(document.activeElement) || form.dataset.dirty === "true"));
}

function applyFragments(fragments) {
  const focusedId = document.activeElement && document.activeElement.id;
  for (const region of regions()) {
    const html = fragments[region.dataset.region];
    if (html === undefined || region.dataset.html === html) continue;
    const incoming = new DOMParser().parseFromString(html, "text/html").querySelector("[data-wrap-up]");
    const current = region.querySelector("[data-wrap-up]");
    if (editing(region) && incoming && current && incoming.dataset.wrapUp === current.dataset.wrapUp) continue;
    region.innerHTML = html;
    region.dataset.html = html;
    enhance(region);
  }
  if (focusedId && document.activeElement === document.body) {
    const again = document.getElementById(focusedId);
    if (again) again.focus();
  }
  noticeOffer();
}

async function refresh() {
  refreshTimer = null;
  try {
    const response = await fetch(desk.dataset.liveUrl + window.location.search, {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    });
    if (response.status === 401 || response.redirected) {
      window.location.reload();
      return;
    }
    if (response.ok) applyFragments(await response.json());
  } catch (error) {
    // The next event (or the stream's reconnect) tries again.
  }
}

function scheduleRefresh() {
  if (refreshTimer === null) refreshTimer = setTimeout(refresh, REFRESH_DEBOUNCE_MS);
}

function listen() {
  const stream = new EventSource(desk.dataset.eventsUrl);
  ["queue", "adviser", "offer", "callbacks", "wrapup", "changed"].forEach((kind) =>
    stream.addEventListener(kind, scheduleRefresh),
  );
  stream.addEventListener("hello", scheduleRefresh); // a reconnect: catch up on anything missed
  stream.addEventListener("signed-out", () => window.location.reload());
}

// -- forms without a page load ------------------------------------------------------------------------

function showErrors(errors) {
  document.getElementById("desk-errors")?.remove();
  const entries = Object.entries(errors || {});
  if (entries.length === 0) return;
  const summary = document.createElement("div");
  summary.className = "govuk-error-summary";
  summary.id = "desk-errors";
  summary.tabIndex = -1;
  const alert = document.createElement("div");
  alert.setAttribute("role", "alert");
  const title = document.createElement("h2");
  title.className = "govuk-error-summary__title";
  title.textContent = "There is a problem";
  const list = document.createElement("ul");
  list.className = "govuk-list govuk-error-summary__list";
  for (const [field, message] of entries) {
    const item = document.createElement("li");
    const link = document.createElement("a");
    const wrapUpField = ["reason_code", "avoidable", "avoidable_cause", "resolved_first_contact", "note"].includes(field);
    link.href = "#" + (wrapUpField ? "wrap-up-" : "desk-") + field;
    link.textContent = message;
    item.appendChild(link);
    list.appendChild(item);
  }
  const body = document.createElement("div");
  body.className = "govuk-error-summary__body";
  body.appendChild(list);
  alert.append(title, body);
  summary.appendChild(alert);
  document.querySelector("h1").before(summary);
  summary.focus();
}

async function submit(form, submitter) {
  const data = new FormData(form);
  if (submitter && submitter.name) data.set(submitter.name, submitter.value);
  const response = await fetch(form.action, {
    method: "POST",
    body: data,
    headers: { Accept: "application/json" },
    credentials: "same-origin",
  });
  const body = await response.json().catch(() => ({ errors: { state: "Something went wrong; reload the page." } }));
  if (body.fragments) {
    if (body.errors) delete body.fragments.wrap_up; // keep what was typed, with the errors summarised above
    if (form.closest("[data-region]")) form.dataset.dirty = "false";
    applyFragments(body.fragments);
  }
  showErrors(body.errors);
  if (!body.errors) {
    document.getElementById("desk-errors")?.remove();
  }
}

function interceptForms() {
  desk.addEventListener("submit", (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.action) return;
    event.preventDefault();
    submit(form, event.submitter).catch(() => form.submit());
  });
  desk.addEventListener("input", (event) => {
    const form = event.target.closest("form");
    if (form) form.dataset.dirty = "true";
  });
}

// -- keyboard shortcuts (Alt+Shift+key: never a single key, so typing a note can't trigger one) -----------

const SHORTCUTS = {
  KeyA: () => document.querySelector('[data-state-button="available"]'),
  KeyB: () => document.querySelector('[data-state-button="break"]'),
  KeyC: () => document.querySelector('[data-state-button="customer_at_desk"]'),
  KeyO: () => document.querySelector('[data-state-button="offline"]'),
  KeyR: () => document.getElementById("ready-now"),
  KeyY: () => buttons.accept,
  KeyN: () => buttons.reject,
  KeyM: () => buttons.mute,
  KeyH: () => buttons.hangUp,
};

function shortcuts() {
  document.addEventListener("keydown", (event) => {
    if (!event.altKey || !event.shiftKey || event.ctrlKey || event.metaKey) return;
    const target = SHORTCUTS[event.code] && SHORTCUTS[event.code]();
    if (target && !target.disabled && !target.closest("[hidden]")) {
      event.preventDefault();
      target.click();
    }
  });
}

// -- times --------------------------------------------------------------------------------------------

function enhance(scope) {
  scope.querySelectorAll("[data-local-time]").forEach((element) => {
    const moment = new Date(element.getAttribute("datetime"));
    if (!Number.isNaN(moment.getTime())) {
      element.textContent = moment.toLocaleTimeString("en-GB", { timeZone: "Europe/London", hour: "2-digit", minute: "2-digit" });
    }
  });
  if (govuk) {
    scope.querySelectorAll('[data-module="govuk-radios"]').forEach((element) => new govuk.Radios(element));
    scope.querySelectorAll('[data-module="govuk-character-count"]').forEach((element) => new govuk.CharacterCount(element));
  }
}

function tickCountdowns() {
  // Counted from the server's "now" when the fragment was drawn: the simulator's clock may run ahead of ours.
  document.querySelectorAll("[data-countdown-to]").forEach((element) => {
    if (!element.dataset.drawnAt) element.dataset.drawnAt = String(Date.now());
    const total = new Date(element.dataset.countdownTo) - new Date(element.dataset.serverNow);
    const left = Math.max(0, Math.round((total - (Date.now() - Number(element.dataset.drawnAt))) / 1000));
    element.textContent = left === 1 ? "1 second" : left + " seconds";
  });
}

// -- the call and the softphone ---------------------------------------------------------------------------

function offerPop() {
  const pop = document.querySelector("[data-pop-entry]");
  return pop && pop.dataset.popKind === "offer" ? pop : null;
}

function announceOffer(ringing) {
  // One sentence for the screen reader, whichever comes first: the screen pop or the softphone's ring.
  const pop = offerPop();
  const what = pop ? "Incoming call: " + pop.dataset.popSummary + "." : "Incoming call.";
  announcer.textContent = ringing ? what + " Your browser phone is ringing." : what;
}

function noticeOffer() {
  const pop = offerPop();
  const entry = pop ? pop.dataset.popEntry : null;
  if (entry && entry !== lastOfferEntry) announceOffer(phone !== null && phone.state === "ringing");
  lastOfferEntry = entry;
}

function setStatus(text) {
  softphoneStatus.textContent = text;
}

function setError(text) {
  softphoneError.textContent = text || "";
  softphoneError.hidden = !text;
}

function setButtons(state) {
  buttons.accept.disabled = state !== "ringing";
  buttons.reject.disabled = state !== "ringing";
  buttons.mute.disabled = state !== "on-call";
  buttons.hangUp.disabled = state !== "on-call";
}

async function startSoftphone() {
  if (desk.dataset.answersOnPhone === "true") return;
  try {
    const { createSoftphone } = await import("./softphone.js");
    phone = await createSoftphone({
      mode: desk.dataset.softphoneMode,
      tokenUrl: desk.dataset.softphoneTokenUrl,
      identity: desk.dataset.softphoneIdentity,
      simulatorBase: desk.dataset.simulatorBase,
    });
  } catch (error) {
    setStatus("Your browser phone is not connected.");
    setError("The browser phone could not start: " + (error && error.message ? error.message : error));
    return;
  }
  phone.on("ready", () => { setError(""); setStatus("Browser phone ready: calls for you will ring here."); setButtons("ready"); });
  phone.on("incoming", (call) => {
    setStatus("Ringing: a call for you. Accept or reject it.");
    announceOffer(true);
    setButtons("ringing");
    scheduleRefresh();
    buttons.accept.focus();
  });
  phone.on("accepted", () => { setStatus("On a call."); setButtons("on-call"); scheduleRefresh(); });
  phone.on("ended", (detail) => {
    setStatus("The call has ended" + (detail && detail.reason ? " (" + detail.reason + ")" : "") + ".");
    announcer.textContent = "The call has ended.";
    buttons.mute.setAttribute("aria-pressed", "false");
    buttons.mute.textContent = "Mute";
    setButtons("ready");
    scheduleRefresh();
  });
  phone.on("muted", ({ muted }) => {
    buttons.mute.setAttribute("aria-pressed", muted ? "true" : "false");
    buttons.mute.textContent = muted ? "Unmute" : "Mute";
  });
  phone.on("error", ({ message }) => setError(message));
  buttons.accept.addEventListener("click", () => phone.accept());
  buttons.reject.addEventListener("click", () => phone.reject());
  buttons.hangUp.addEventListener("click", () => phone.hangUp());
  buttons.mute.addEventListener("click", () => phone.setMuted(buttons.mute.getAttribute("aria-pressed") !== "true"));
  window.addEventListener("pagehide", () => phone.destroy());
}

async function start() {
  try {
    govuk = await import(desk.dataset.govukModule);
  } catch (error) {
    govuk = null; // without GOV.UK Frontend's scripts, conditional questions simply all show
  }
  regions().forEach((region) => { region.dataset.html = region.innerHTML; enhance(region); });
  interceptForms();
  shortcuts();
  listen();
  setInterval(tickCountdowns, 1000);
  tickCountdowns();
  noticeOffer();
  startSoftphone();
}

start();
