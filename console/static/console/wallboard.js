// The supervisor's wallboard: fetch the figures again when the live stream says the queue or an adviser changed
// (at most twice a second, once more when a burst settles), and every 15 s for the waits and the clock.
// Plain ES module, no build step: without it the page shows the figures as they were when it loaded.
"use strict";

const DEBOUNCE_MS = 500;
const SETTLE_MS = 1500; // a change is announced as it is written: look again once it has surely committed
const CLOCK_MS = 15000;
const board = document.getElementById("wallboard");
const announcer = document.getElementById("wallboard-announcer");
let soon = null;
let settle = null;
let lastKey = figures()?.dataset.announcementKey;

function figures() {
  return board.querySelector("[data-wallboard-figures]");
}

function announce() {
  // Say the headline briefly when it changes in a way that matters, never the whole table.
  const root = figures();
  if (!root || root.dataset.announcementKey === lastKey) return;
  lastKey = root.dataset.announcementKey;
  announcer.textContent = root.dataset.announcement;
}

async function refresh() {
  try {
    const response = await fetch(board.dataset.figuresUrl, {
      headers: { Accept: "text/html" },
      credentials: "same-origin",
    });
    if (response.status === 401 || response.redirected) {
      window.location.reload();
      return;
    }
    if (!response.ok) return;
    const html = await response.text();
    if (board.dataset.html === html) return;
    const focusedId = board.contains(document.activeElement) ? document.activeElement.id : null;
    const scrolled = Object.fromEntries(
      Array.from(board.querySelectorAll(".moj-scrollable-pane")).map((pane) => [pane.id, pane.scrollLeft]),
    );
    board.innerHTML = html;
    board.dataset.html = html;
    for (const [id, left] of Object.entries(scrolled)) {
      const pane = document.getElementById(id);
      if (pane) pane.scrollLeft = left;
    }
    if (focusedId) document.getElementById(focusedId)?.focus({ preventScroll: true });
    announce();
  } catch (error) {
    // The next event, the stream's reconnect or the clock tries again.
  }
}

function changed() {
  if (soon === null) {
    soon = setTimeout(() => {
      soon = null;
      refresh();
    }, DEBOUNCE_MS);
  }
  clearTimeout(settle);
  settle = setTimeout(refresh, SETTLE_MS);
}

function listen() {
  const stream = new EventSource(board.dataset.eventsUrl);
  ["queue", "adviser", "offer", "callbacks", "wrapup", "changed"].forEach((kind) =>
    stream.addEventListener(kind, changed),
  );
  stream.addEventListener("hello", changed); // a reconnect: catch up on anything missed
  stream.addEventListener("signed-out", () => window.location.reload());
}

if (board) {
  listen();
  setInterval(refresh, CLOCK_MS);
}
