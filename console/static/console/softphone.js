// The desk's softphone: one interface, two backends. Plain ES module, no build step.
//
//   const phone = await createSoftphone({ mode, tokenUrl, identity, simulatorBase });
//   phone.on("incoming", ({ callSid, from, entryId }) => …);  phone.accept();
//
// mode "twilio": the Twilio Voice JS SDK (its bundle, loaded by the page, defines window.Twilio.Device), with
// an access token from tokenUrl (GET, the signed-in adviser's cookie) refreshed before it expires.
// mode "simulated": the phone simulator's adviser endpoints under simulatorBase (default /simulator/api): the
// browser phone is registered while the page is open (a heartbeat renews it), incoming calls are polled.
//
// Events: ready, incoming ({callSid, from, entryId}), accepted, ended ({reason}), muted ({muted}),
// error ({message}, in plain words for an adviser). `entryId` is the queue entry routing put on the call (a
// <Parameter> of its <Client>), or null. Reasons: "cancelled" (it stopped ringing before it was taken: the
// caller hung up, or the offer moved on), "rejected", "hung-up" (by the adviser), "remote" (the other side
// ended it), "failed". Methods: accept(), reject(), hangUp(), setMuted(bool), destroy(). `phone.state` is one of
// offline | registering | ready | ringing | on-call.
//
// Registration starts just after createSoftphone resolves, so handlers attached straight after the await hear
// everything; `on("ready")` on a phone that is ready already is called at once, and errors that happened
// before any error handler existed are handed to the first one.

const STATES = ["offline", "registering", "ready", "ringing", "on-call"];
const EVENTS = ["ready", "incoming", "accepted", "ended", "muted", "error"];
const SIMULATED_POLL_MS = 1000;
const SIMULATED_HEARTBEAT_MS = 10000; // the simulator's lease is 30 s
const TOKEN_REFRESH_BEFORE_EXPIRY_MS = 60000; // ask for a new token a minute before the old one runs out

const EXPIRED_TOKEN_CODES = new Set([20104, 31205]);
const TELL_THE_SERVICE_DESK = "Reload the page; if it keeps happening, tell the service desk.";

// Twilio Voice SDK error codes (lib/twilio/errors/generated.ts of @twilio/voice-sdk 2.x) in an adviser's words.
const TWILIO_ERROR_WORDS = new Map([
  [31401, "Microphone blocked: allow the microphone for this site in the browser's settings, then reload the page."],
  [31208, "Microphone blocked: allow the microphone for this site in the browser's settings, then reload the page."],
  [31402, "No microphone could be used: plug in your headset (or choose another microphone) and try again."],
  [20101, "Your phone sign-in was not accepted. " + TELL_THE_SERVICE_DESK],
  [20104, "Your phone sign-in has expired. Reload the page to take calls again."],
  [20151, "Your phone sign-in was not accepted. " + TELL_THE_SERVICE_DESK],
  [31202, "Your phone sign-in was not accepted. " + TELL_THE_SERVICE_DESK],
  [31204, "Your phone sign-in was not accepted. " + TELL_THE_SERVICE_DESK],
  [31205, "Your phone sign-in has expired. Reload the page to take calls again."],
  [31207, "Your phone sign-in was not accepted. " + TELL_THE_SERVICE_DESK],
  [31003, "The phone lost its connection. Check the network; it reconnects by itself when it can."],
  [31005, "The phone lost its connection. Check the network; it reconnects by itself when it can."],
  [31009, "The phone lost its connection. Check the network; it reconnects by itself when it can."],
  [53000, "The phone lost its connection. Check the network; it reconnects by itself when it can."],
  [53001, "The phone lost its connection. Check the network; it reconnects by itself when it can."],
  [53405, "The call's sound could not get through (a firewall may block it). Tell the service desk."],
  [31201, "The browser would not let the phone use the microphone. " + TELL_THE_SERVICE_DESK],
]);

export function wordsForTwilioError(error) {
  const code = error && Number(error.code);
  if (TWILIO_ERROR_WORDS.has(code)) return TWILIO_ERROR_WORDS.get(code);
  return "The phone hit a problem" + (code ? " (code " + code + ")" : "") + ". " + TELL_THE_SERVICE_DESK;
}

class Softphone {
  constructor() {
    this._handlers = new Map(EVENTS.map((event) => [event, new Set()]));
    this._unheardErrors = [];
    this._state = "offline";
  }

  get state() {
    return this._state;
  }

  on(event, handler) {
    if (!this._handlers.has(event)) throw new Error("softphone: unknown event " + event);
    this._handlers.get(event).add(handler);
    if (event === "ready" && this._state === "ready") queueMicrotask(() => handler({}));
    if (event === "error") {
      const unheard = this._unheardErrors.splice(0);
      unheard.forEach((detail) => queueMicrotask(() => handler(detail)));
    }
    return () => this._handlers.get(event).delete(handler);
  }

  _emit(event, detail = {}) {
    const handlers = this._handlers.get(event);
    if (event === "error" && handlers.size === 0) {
      this._unheardErrors.push(detail);
      return;
    }
    handlers.forEach((handler) => {
      try {
        handler(detail);
      } catch (thrown) {
        console.error("softphone: a " + event + " handler failed", thrown); // one page bug must not stop the phone
      }
    });
  }

  _setState(state) {
    if (!STATES.includes(state)) throw new Error("softphone: unknown state " + state);
    this._state = state;
  }

  _fail(message) {
    this._emit("error", { message });
  }

  _ended(reason) {
    this._setState(this._registered() ? "ready" : "offline");
    this._emit("ended", { reason });
  }
}

// -- the real one: Twilio's Voice JS SDK ------------------------------------------------------------------

class TwilioSoftphone extends Softphone {
  constructor({ tokenUrl }) {
    super();
    this._tokenUrl = tokenUrl;
    this._device = null;
    this._call = null;
    this._hangingUp = false;
    this._destroyed = false;
  }

  _registered() {
    return Boolean(this._device) && this._device.state === "registered";
  }

  async _token() {
    let response;
    try {
      response = await fetch(this._tokenUrl, { credentials: "same-origin", cache: "no-store" });
    } catch (error) {
      throw new Error("The phone could not reach the server to sign in. Check the network, then reload the page.");
    }
    if (response.status === 401) throw new Error("You have been signed out. Sign in again to take calls.");
    if (response.status === 403) throw new Error("Your account cannot take calls in the browser. Ask a supervisor.");
    if (!response.ok) throw new Error("The phone could not sign in (the server said " + response.status + "). " + TELL_THE_SERVICE_DESK);
    return (await response.json()).token;
  }

  async start() {
    const Device = globalThis.Twilio && globalThis.Twilio.Device;
    if (!Device) {
      this._fail("The phone software did not load. " + TELL_THE_SERVICE_DESK);
      return;
    }
    this._setState("registering");
    let token;
    try {
      token = await this._token();
    } catch (error) {
      this._setState("offline");
      this._fail(error.message);
      return;
    }
    if (this._destroyed) return;
    const device = new Device(token, {
      codecPreferences: ["opus", "pcmu"],
      closeProtection: "You are on a call: leaving this page ends it.",
      tokenRefreshMs: TOKEN_REFRESH_BEFORE_EXPIRY_MS,
      logLevel: "warn",
    });
    this._device = device;
    device.on("registering", () => this._setState("registering"));
    device.on("registered", () => {
      if (this._state === "registering" || this._state === "offline") this._setState("ready");
      this._emit("ready");
    });
    device.on("unregistered", () => {
      if (!this._call) this._setState("offline");
    });
    device.on("error", (error) => {
      // An expired token is mended quietly with a fresh one; only if that fails does the adviser hear of it.
      if (EXPIRED_TOKEN_CODES.has(Number(error && error.code))) this._refreshToken();
      else this._fail(wordsForTwilioError(error));
    });
    device.on("incoming", (call) => this._incoming(call));
    device.on("tokenWillExpire", () => this._refreshToken());
    try {
      await device.register();
    } catch (error) {
      this._setState("offline");
      this._fail(wordsForTwilioError(error));
    }
  }

  async _refreshToken() {
    try {
      const token = await this._token();
      if (!this._device) return;
      this._device.updateToken(token);
      if (this._device.state === "unregistered") await this._device.register();
    } catch (error) {
      this._fail(error.message);
    }
  }

  _incoming(call) {
    if (this._call) {
      call.reject(); // one call at a time: Twilio hears "busy", routing offers the caller to someone else
      return;
    }
    this._call = call;
    this._hangingUp = false;
    const finished = (reason) => {
      if (this._call !== call) return;
      this._call = null;
      this._ended(reason);
    };
    call.on("accept", () => {
      this._setState("on-call");
      this._emit("accepted");
    });
    call.on("cancel", () => finished("cancelled"));
    call.on("reject", () => finished("rejected"));
    call.on("disconnect", () => finished(this._hangingUp ? "hung-up" : "remote"));
    call.on("mute", (isMuted) => this._emit("muted", { muted: Boolean(isMuted) }));
    call.on("error", (error) => {
      this._fail(wordsForTwilioError(error));
      if (call.status && call.status() === "closed") finished("failed");
    });
    this._setState("ringing");
    const entry = call.customParameters && call.customParameters.get ? call.customParameters.get("entry") : null;
    this._emit("incoming", {
      callSid: call.parameters.CallSid,
      from: call.parameters.From,
      entryId: entry === undefined ? null : entry,
    });
  }

  _ringingOrOnCall(what) {
    if (!this._call) {
      this._fail("There is no call to " + what + ".");
      return null;
    }
    return this._call;
  }

  accept() {
    const call = this._ringingOrOnCall("answer");
    if (call) call.accept();
  }

  reject() {
    const call = this._ringingOrOnCall("reject");
    if (call) call.reject();
  }

  hangUp() {
    const call = this._ringingOrOnCall("hang up");
    if (!call) return;
    this._hangingUp = true;
    call.disconnect();
  }

  setMuted(muted) {
    const call = this._ringingOrOnCall(muted ? "mute" : "unmute");
    if (call) call.mute(Boolean(muted));
  }

  destroy() {
    this._destroyed = true;
    if (this._device) this._device.destroy(); // disconnects any call and unregisters
    this._device = null;
    this._call = null;
    this._setState("offline");
  }
}

// -- the simulator's: the phone simulator plays Twilio, so a newcomer takes calls with no Twilio account ----

class SimulatedSoftphone extends Softphone {
  constructor({ identity, simulatorBase }) {
    super();
    this._base = (simulatorBase || "/simulator/api").replace(/\/$/, "") + "/advisers/" + encodeURIComponent(identity);
    this._timers = [];
    this._ringingSid = null;
    this._callSid = null;
    this._hangingUp = false;
    this._busy = false;
    this._isRegistered = false;
    this._closed = false;
    this._onPageHide = () => navigator.sendBeacon(this._base + "/unregister");
  }

  _registered() {
    return this._isRegistered;
  }

  async _send(method, action, body) {
    const options = { method, headers: { Accept: "application/json" }, cache: "no-store" };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(this._base + action, options);
    } catch (error) {
      throw new SimulatorUnreachable("The simulated phone could not reach the server. Is `python3 dev.py serve` still running?");
    }
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new SimulatorRefused(response.status, data.error || "The simulated phone was refused (" + response.status + ").");
    return data;
  }

  async start() {
    this._setState("registering");
    try {
      this._see(await this._send("POST", "/register"));
    } catch (error) {
      this._setState("offline");
      this._fail(error.message);
      return;
    }
    if (this._closed) return;
    this._isRegistered = true;
    this._setState("ready");
    this._emit("ready");
    window.addEventListener("pagehide", this._onPageHide);
    this._timers.push(setInterval(() => this._poll(), SIMULATED_POLL_MS));
    this._timers.push(setInterval(() => this._heartbeat(), SIMULATED_HEARTBEAT_MS));
  }

  async _heartbeat() {
    try {
      await this._send("POST", "/heartbeat");
    } catch (error) {
      if (!(error instanceof SimulatorRefused) || error.status !== 409) {
        this._fail(error.message);
        return;
      }
      // The lease lapsed (the computer slept, say): calls stopped ringing here, so register again.
      this._isRegistered = false;
      if (this._state === "ready") this._setState("registering");
      try {
        await this._send("POST", "/register");
        this._isRegistered = true;
        if (this._state === "registering") this._setState("ready");
        this._emit("ready");
      } catch (again) {
        this._setState("offline");
        this._fail(again.message);
      }
    }
  }

  async _poll() {
    if (this._busy || this._closed) return;
    try {
      this._see(await this._send("GET", "/offers"));
    } catch (error) {
      this._fail(error.message);
    }
  }

  // Turn the simulator's view of this browser phone into the softphone's events.
  _see(view) {
    if (this._busy || this._closed) return;
    const offers = view.offers || [];
    const current = view.current_call;
    if (this._state === "ringing" && !offers.some((offer) => offer.sid === this._ringingSid)) {
      this._ringingSid = null;
      this._ended("cancelled");
    } else if (this._state === "on-call" && current && current.sid === this._callSid && current.ended) {
      this._callSid = null;
      this._ended(this._hangingUp ? "hung-up" : "remote");
    }
    if (this._state === "ready" && offers.length > 0) {
      const offer = offers[0];
      this._ringingSid = offer.sid;
      this._hangingUp = false;
      this._setState("ringing");
      const entry = (offer.parameters || {}).entry;
      this._emit("incoming", { callSid: offer.sid, from: offer.from, entryId: entry === undefined ? null : entry });
    }
  }

  async _act(what, action, body) {
    this._busy = true;
    try {
      return await this._send("POST", action, body);
    } catch (error) {
      this._fail(what + ": " + error.message);
      return null;
    } finally {
      this._busy = false;
    }
  }

  async accept() {
    if (this._state !== "ringing") return this._fail("There is no call to answer.");
    const sid = this._ringingSid;
    const view = await this._act("Answering failed", "/answer");
    this._ringingSid = null;
    if (!view) return this._ended("failed");
    const current = view.current_call;
    if (!current || current.sid !== sid || current.ended) return this._ended("cancelled");
    this._callSid = sid;
    this._setState("on-call");
    this._emit("accepted");
  }

  async reject() {
    if (this._state !== "ringing") return this._fail("There is no call to reject.");
    this._ringingSid = null;
    await this._act("Rejecting failed", "/reject");
    this._ended("rejected");
  }

  async hangUp() {
    if (this._state !== "on-call") return this._fail("There is no call to hang up.");
    this._hangingUp = true;
    const view = await this._act("Hanging up failed", "/hangup");
    if (view) {
      this._callSid = null;
      this._ended("hung-up");
    }
  }

  async setMuted(muted) {
    if (this._state !== "on-call") return this._fail("There is no call to " + (muted ? "mute." : "unmute."));
    const view = await this._act("Muting failed", "/mute", { muted: Boolean(muted) });
    if (view) this._emit("muted", { muted: Boolean(view.muted) });
  }

  destroy() {
    this._closed = true;
    this._timers.forEach((timer) => clearInterval(timer));
    this._timers = [];
    window.removeEventListener("pagehide", this._onPageHide);
    if (this._state === "ringing") navigator.sendBeacon(this._base + "/reject");
    if (this._state === "on-call") navigator.sendBeacon(this._base + "/hangup");
    navigator.sendBeacon(this._base + "/unregister");
    this._isRegistered = false;
    this._setState("offline");
  }
}

class SimulatorUnreachable extends Error {}

class SimulatorRefused extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export async function createSoftphone({ mode, tokenUrl, identity, simulatorBase } = {}) {
  let phone;
  if (mode === "twilio") {
    if (!tokenUrl) throw new Error("softphone: the twilio mode needs tokenUrl");
    phone = new TwilioSoftphone({ tokenUrl });
  } else if (mode === "simulated") {
    if (!identity) throw new Error("softphone: the simulated mode needs the adviser's identity");
    phone = new SimulatedSoftphone({ identity, simulatorBase });
  } else {
    throw new Error('softphone: mode must be "twilio" or "simulated", not ' + JSON.stringify(mode));
  }
  // After the caller's `await` has resumed and attached its handlers (a task runs after every microtask).
  setTimeout(() => phone.start(), 0);
  return phone;
}
