// The browser phone: drives the simulated Twilio through /simulator/api and polls the call's state.
// Plain JS, no build step and no CDN: the simulator must work without the internet.
"use strict";

(function () {
  const POLL_MS = 700;
  // The chosen adviser's browser phone stays registered while this page renews it (the lease is 30 s).
  const HEARTBEAT_MS = 10000;
  // Twilio ends a keypad entry after a pause; the page does the same before sending the keys together.
  const KEY_PAUSE_MS = 1200;
  const api = "/simulator/api";
  const $ = (id) => document.getElementById(id);
  const main = $("simulator");
  const canSkipTime = main.dataset.canSkipTime === "true";

  let callSid = null;
  let callEnded = true;
  let gather = null;
  let keys = "";
  let keyTimer = null;
  let busy = false;
  let lastCallJson = "";
  let lastAdviserJson = "";
  let adviserIdentity = "";

  function showError(message) {
    const box = $("error");
    box.textContent = message || "";
    box.hidden = !message;
  }

  async function send(method, path, body) {
    const options = { method, headers: { Accept: "application/json" } };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    const response = await fetch(api + path, options);
    const data = await response.json().catch(() => ({ error: "The server sent something unexpected." }));
    if (!response.ok) {
      throw new Error(data.error || "Request failed (" + response.status + ")");
    }
    return data;
  }

  // -- the resident's call ----------------------------------------------------------------------------

  async function callAction(path, body) {
    if (!callSid || busy) return;
    busy = true;
    setControls();
    showError("");
    try {
      render(await send("POST", "/calls/" + callSid + path, body));
    } catch (error) {
      showError(error.message);
    } finally {
      busy = false;
      setControls();
      if (keys && !keyTimer) keyTimer = setTimeout(sendKeys, KEY_PAUSE_MS);
    }
  }

  function setControls() {
    const live = Boolean(callSid) && !callEnded;
    const listening = live && gather !== null && !busy;
    const hearsKeys = listening && gather.input.includes("dtmf");
    const hearsSpeech = listening && gather.input.includes("speech");
    $("dial").disabled = live || busy;
    $("hangup").disabled = !live;
    // Keys stay live while a request runs: they are kept and sent when it finishes (callers key ahead).
    document.querySelectorAll(".key").forEach((button) => { button.disabled = !live; });
    $("speech").disabled = !hearsSpeech;
    $("confidence").disabled = !hearsSpeech;
    $("say").disabled = !hearsSpeech;
    $("silence").disabled = !listening;
    document.querySelectorAll(".wait").forEach((button) => {
      button.disabled = !live || busy || !canSkipTime;
    });
  }

  function describeStatus(call) {
    if (call.ended) return "Call ended (" + call.status + ") after " + call.duration_seconds + " s.";
    if (call.bridged_with) return "Talking to " + call.bridged_with + ".";
    if (call.in_queue) {
      const where = call.queue_position ? "position " + call.queue_position : "waiting";
      return "On hold in the " + call.queue_name + " queue, " + where + ".";
    }
    if (call.gather) {
      const ways = call.gather.input.map((mode) => (mode === "dtmf" ? "keys" : "speech")).join(" or ");
      return "On a call: the menu is waiting for " + ways + ".";
    }
    return "On a call (" + call.status + ").";
  }

  function transcriptLine(event) {
    const item = document.createElement("li");
    item.className = "event event-" + event.kind;
    const text = document.createElement("span");
    text.className = "event-text";
    const labels = {
      heard: "",
      pressed: "You pressed ",
      spoke: "You said ",
      "gather-timeout": "You stayed silent",
      enqueued: "Put in the queue ",
      waiting: "Still waiting",
      "left-queue": "Left the queue ",
      dequeued: "Taken out of the queue",
      dialled: "Connecting to ",
      bridged: "Connected to ",
      "bridge-ended": "Conversation ended",
      played: "Hold music playing",
      sms: "Text message sent: ",
      redirected: "Redirected",
      rejected: "Rejected",
      "hung-up": "Hung up",
      "call-ended": "Call ended: ",
      "application-error": "Application error at ",
      "webhook-failed": "Webhook failed: ",
    };
    const quoteText = event.kind === "spoke" || event.kind === "pressed";
    const shown = event.kind === "played" || event.kind === "waiting" || event.kind === "gather-timeout";
    const prefix = event.kind in labels ? labels[event.kind] : event.kind + " ";
    text.textContent = prefix + (shown ? "" : quoteText ? "“" + event.text + "”" : event.text);
    if (event.kind === "hung-up" && event.detail.by) text.textContent += " (by " + event.detail.by + ")";
    item.appendChild(text);
    if (event.kind === "heard") {
      item.lang = event.language || "en";
      const voice = document.createElement("span");
      voice.className = "voice";
      voice.lang = "en-GB";
      voice.textContent = [event.language, event.voice].filter(Boolean).join(" · ");
      item.appendChild(voice);
    }
    return item;
  }

  function render(call) {
    const json = JSON.stringify(call);
    if (json === lastCallJson) return;
    lastCallJson = json;
    callEnded = call.ended;
    gather = call.ended ? null : call.gather;
    $("call-status").textContent = describeStatus(call);
    const failures = call.simulator_failures || [];
    if (failures.length) {
      // Without this the caller would seem to hold for ever: the app could not reach the simulated Twilio.
      showError("The simulated Twilio failed, so this call cannot be connected and no text can be sent. "
        + "Latest failure: " + failures[failures.length - 1]);
    }

    const list = $("transcript");
    const placeholder = list.querySelector(".placeholder");
    if (placeholder) placeholder.remove();
    // Append only what is new, so screen readers announce new prompts and nothing twice.
    const shown = list.querySelectorAll("li.event").length;
    call.transcript.slice(shown).forEach((event) => list.appendChild(transcriptLine(event)));
    list.scrollTop = list.scrollHeight;

    $("fact-now").textContent = new Date(call.now).toLocaleString("en-GB", { timeZone: "Europe/London" });
    $("fact-queue").textContent = call.in_queue
      ? call.queue_name + " (position " + (call.queue_position || "?") + ")"
      : "not queued";
    const recorded = call.recorded || {};
    $("fact-topic").textContent = recorded.topic || "—";
    $("fact-language").textContent = recorded.language || "—";
    $("fact-reference").textContent = recorded.reference || "—";
    $("fact-outcome").textContent = recorded.outcome || "—";
    $("fact-texts").textContent = call.texts.length ? call.texts.join(" · ") : "none";

    const rows = $("journey");
    rows.replaceChildren();
    if (call.journey.length === 0) {
      const row = rows.insertRow();
      const cell = row.insertCell();
      cell.colSpan = 4;
      cell.className = "placeholder";
      cell.textContent = "Nothing recorded yet.";
    }
    call.journey.forEach((step) => {
      const row = rows.insertRow();
      const time = new Date(step.at).toLocaleTimeString("en-GB", { timeZone: "Europe/London" });
      [time, step.node || step.kind, step.input || "", step.outcome || ""].forEach((value) => {
        row.insertCell().textContent = value;
      });
    });
    setControls();
  }

  async function poll() {
    if (callSid && !busy) {
      try {
        render(await send("GET", "/calls/" + callSid));
      } catch (error) {
        showError(error.message);
      }
    }
    if (adviserIdentity) {
      try {
        renderAdviser(await send("GET", "/advisers/" + encodeURIComponent(adviserIdentity) + "/offers"));
      } catch (error) {
        showError(error.message);
      }
    }
  }

  function chosenCaller() {
    const choice = document.querySelector("input[name=caller]:checked");
    if (!choice) return "";
    return choice.value === "custom" ? $("custom-number").value.trim() : choice.value;
  }

  $("dial-form").addEventListener("submit", async (submitted) => {
    submitted.preventDefault();
    if (busy) return;
    busy = true;
    setControls();
    showError("");
    $("transcript").replaceChildren();
    lastCallJson = "";
    keys = "";
    $("keys-entry").textContent = "—";
    $("call-status").textContent = "Dialling…";
    try {
      const call = await send("POST", "/calls", { from: chosenCaller() });
      callSid = call.sid;
      render(call);
    } catch (error) {
      $("call-status").textContent = "Not on a call.";
      showError(error.message);
    } finally {
      busy = false;
      setControls();
    }
  });

  $("custom-number").addEventListener("input", () => { $("caller-custom").checked = true; });
  $("hangup").addEventListener("click", () => callAction("/hangup"));
  $("silence").addEventListener("click", () => callAction("/silence"));
  document.querySelectorAll(".wait").forEach((button) => {
    button.addEventListener("click", () => callAction("/wait", { seconds: Number(button.dataset.seconds) }));
  });
  $("speak-form").addEventListener("submit", (submitted) => {
    submitted.preventDefault();
    const words = $("speech").value.trim();
    if (!words) {
      showError("Type what the caller says first.");
      return;
    }
    $("speech").value = "";
    callAction("/speak", { words, confidence: Number($("confidence").value) });
  });

  // -- keys: collected into one entry, as a caller keys a whole account number ---------------------------

  function sendKeys() {
    clearTimeout(keyTimer);
    keyTimer = null;
    if (!keys || busy) return; // a running request sends what was keyed when it finishes
    const entry = keys;
    keys = "";
    $("keys-entry").textContent = entry + " (sent)";
    callAction("/press", { keys: entry });
  }

  function key(pressed) {
    if (!callSid || callEnded) return;
    keys += pressed;
    $("keys-entry").textContent = keys;
    clearTimeout(keyTimer);
    const enough = gather && gather.num_digits && keys.length >= gather.num_digits;
    const finished = gather && gather.finish_on_key && pressed === gather.finish_on_key;
    if (enough || finished || !gather) {
      sendKeys();
    } else {
      keyTimer = setTimeout(sendKeys, KEY_PAUSE_MS);
    }
  }

  document.querySelectorAll(".key").forEach((button) => {
    button.addEventListener("click", () => key(button.dataset.key));
  });

  document.addEventListener("keydown", (pressed) => {
    const target = pressed.target;
    const typing = target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement ||
      target instanceof HTMLSelectElement;
    if (typing || pressed.ctrlKey || pressed.metaKey || pressed.altKey) return;
    if (/^[0-9*#]$/.test(pressed.key)) {
      pressed.preventDefault();
      key(pressed.key);
    }
  });

  // -- the adviser's browser phone ---------------------------------------------------------------------

  function renderAdviser(state) {
    const json = JSON.stringify(state);
    if (json === lastAdviserJson) return;
    lastAdviserJson = json;
    const offers = $("offers");
    offers.replaceChildren();
    state.offers.forEach((offer) => {
      const item = document.createElement("li");
      item.textContent = "Call from " + offer.from;
      offers.appendChild(item);
    });
    if (state.offers.length === 0) {
      const item = document.createElement("li");
      item.className = "placeholder";
      item.textContent = "None.";
      offers.appendChild(item);
    }
    const current = state.current_call;
    const onCall = Boolean(current) && !current.ended;
    $("adviser-answer").disabled = state.offers.length === 0 || onCall;
    $("adviser-reject").disabled = state.offers.length === 0;
    $("adviser-hangup").disabled = !onCall;
    $("adviser-state").disabled = false;
    $("adviser-set-state").disabled = false;
    $("adviser-routing-state").textContent = state.routing_state
      ? "Routing state: " + state.routing_state.replace(/_/g, " ") + (state.state_reason ? " (" + state.state_reason + ")" : "")
      : "";
    let status = state.offers.length ? state.offers.length + " call(s) ringing." : "No calls ringing.";
    if (onCall) status = current.bridged_with ? "Talking to " + current.bridged_with + "." : "On a call.";
    else if (!state.registered) status = "Browser phone closed: calls do not ring here.";
    $("adviser-status").textContent = status;
    const heard = $("adviser-heard");
    heard.replaceChildren();
    const phrases = current ? current.heard : [];
    phrases.forEach((phrase) => {
      const item = document.createElement("li");
      item.textContent = phrase;
      heard.appendChild(item);
    });
    if (phrases.length === 0) {
      const item = document.createElement("li");
      item.className = "placeholder";
      item.textContent = "Nothing yet.";
      heard.appendChild(item);
    }
  }

  async function adviserAction(path) {
    if (!adviserIdentity) return;
    showError("");
    try {
      renderAdviser(await send("POST", "/advisers/" + encodeURIComponent(adviserIdentity) + path));
    } catch (error) {
      showError(error.message);
    }
  }

  function adviserPath(identity, action) {
    return "/advisers/" + encodeURIComponent(identity) + action;
  }

  function closeBrowserPhone(identity) {
    // sendBeacon still goes out while the page is closing; fetch might not.
    if (identity) navigator.sendBeacon(api + adviserPath(identity, "/unregister"));
  }

  async function keepBrowserPhoneOpen() {
    if (!adviserIdentity) return;
    try {
      renderAdviser(await send("POST", adviserPath(adviserIdentity, "/heartbeat")));
    } catch (error) {
      // The lease lapsed (the computer slept, say): open it again.
      renderAdviser(await send("POST", adviserPath(adviserIdentity, "/register")));
    }
  }

  $("adviser-identity").addEventListener("change", async (changed) => {
    closeBrowserPhone(adviserIdentity);
    adviserIdentity = changed.target.value;
    lastAdviserJson = "";
    if (!adviserIdentity) {
      $("adviser-status").textContent = "Choose an adviser to see the calls offered to them.";
      return;
    }
    showError("");
    try {
      renderAdviser(await send("POST", adviserPath(adviserIdentity, "/register")));
    } catch (error) {
      showError(error.message);
    }
  });
  window.addEventListener("pagehide", () => closeBrowserPhone(adviserIdentity));
  $("adviser-set-state").addEventListener("click", async () => {
    if (!adviserIdentity) return;
    showError("");
    try {
      renderAdviser(
        await send("POST", "/advisers/" + encodeURIComponent(adviserIdentity) + "/state", {
          state: $("adviser-state").value,
        })
      );
    } catch (error) {
      showError(error.message);
    }
  });
  $("adviser-answer").addEventListener("click", () => adviserAction("/answer"));
  $("adviser-reject").addEventListener("click", () => adviserAction("/reject"));
  $("adviser-hangup").addEventListener("click", () => adviserAction("/hangup"));

  $("clock-form").addEventListener("submit", async (submitted) => {
    submitted.preventDefault();
    showError("");
    try {
      const clock = await send("POST", "/clock", { at: $("clock-at").value });
      $("fact-now").textContent = new Date(clock.now).toLocaleString("en-GB", { timeZone: "Europe/London" });
    } catch (error) {
      showError(error.message);
    }
  });

  setControls();
  setInterval(poll, POLL_MS);
  setInterval(() => keepBrowserPhoneOpen().catch((error) => showError(error.message)), HEARTBEAT_MS);
})();
