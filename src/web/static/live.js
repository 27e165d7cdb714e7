// o4send dashboard: keeps a live page current. Every 2 s it fetches the page again and swaps in
// its <main>, so the figures follow the pushes without reloading the page (scroll position and
// focus stay). A session that ended sends the browser to the login page.
"use strict";
setInterval(async () => {
  try {
    const r = await fetch(location.href, { credentials: "same-origin", cache: "no-store" });
    if (r.redirected || !r.ok) {
      location.reload();
      return;
    }
    const fresh = new DOMParser().parseFromString(await r.text(), "text/html").querySelector("main");
    const now = document.querySelector("main");
    if (fresh && now) now.replaceWith(fresh);
  } catch (e) {
    // The appliance is restarting or out of reach: try again at the next turn.
  }
}, 2000);
