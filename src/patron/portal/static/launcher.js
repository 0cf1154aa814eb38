/* Patron's launcher: a button on the merchant's own site that opens the member portal in a
   panel (docs/portal.md, "The launcher"; an example page in docs/portal/). No build step, no
   dependency. The merchant's page includes it once:

     <script src="https://loyalty.shop.example/portal-static/launcher.js"
             data-program="shop" data-link-endpoint="/loyalty/portal-link" defer></script>

   - data-program (required): the program's slug. The script reads the program's name, colours
     and words from Patron (/portal/{program}/launcher.json), on the origin it was loaded from.
   - data-link-endpoint: a URL of the merchant's own site, asked (POST, with the site's cookies)
     when the shopper first opens the panel. For a shopper the site has signed in, it mints a
     portal link (POST /v1/programs/{program}/members/{member}/portal-link) and answers
     {"url": "..."}; for anyone else it answers 204 (401, 403 and {"url": null} do too, but
     a browser logs a 401 as an error). Minting at click time matters: a link works once and
     for 15 minutes.
   - data-link: instead, a link minted when the page was made (used at the first opening only).
   - data-label: the button's text (default: the program's name); data-position="left" puts
     the button bottom left; data-button="none" draws no button (the page opens the panel from
     its own links).
   Without a link the panel opens the portal's sign-in page, never the portal's home: on a
   shared computer, the home could still show the last member signed in to the portal there.

   Any element of the page with a data-patron-open attribute opens the panel too: a link
   <a href="https://loyalty.shop.example/portal/shop/" data-patron-open> still leads to the
   portal where the script does not run.

   The panel is a modal <dialog> holding the portal in an <iframe>: focus moves into it,
   Escape (also pressed inside the portal: portal.js passes it on) or the close button closes
   it and focus returns to what opened it; on a phone it fills the screen. The portal may only be
   framed by the origins its program lists (portal.embed_origins): on any other page, or in a
   browser without <dialog>, the button opens the portal in a new tab instead. Everything is
   drawn in a shadow root with Patron's launcher.css, and nothing inline, so the merchant's
   styles do not leak in, these do not leak out, and a strict style-src holds.

   window.PatronLauncher.open() and .close() let the page open it from its own links. */
(() => {
  "use strict";

  const script = document.currentScript;
  if (!script || window.PatronLauncher) return; // included twice: the first one serves
  const warn = (text) => console.warn(`Patron launcher: ${text}`);
  const options = script.dataset;
  const program = options.program || "";
  if (!/^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/.test(program)) {
    warn('data-program must name the program, such as data-program="shop"');
    return;
  }
  const patron = new URL(script.src, document.baseURI).origin;
  const portal = `${patron}/portal/${program}/`;
  const COLOR = /^#[0-9a-f]{6}$/;
  const SVG = "http://www.w3.org/2000/svg";
  const GIFT =
    "M3 8h18v4H3zM5 12v8h14v-8M12 8v12M12 8C11 5 6 4 6 6.5S9 8 12 8zM12 8c1-3 6-4 6-1.5S15 8 12 8z";

  let pendingLink = options.link || "";
  let started = false; // the frame was given its first address
  let openWhenReady = false;
  let ui = null;

  /* A sign-in link of this program on this Patron, or "": whatever the merchant's endpoint
     answers, the frame only ever loads Patron's portal. */
  const signInLink = (value) => {
    try {
      const url = new URL(value);
      const ok = url.origin === patron && url.pathname.startsWith(`/portal/${program}/sign-in/`);
      return ok ? url.href : "";
    } catch (error) {
      return "";
    }
  };

  const mintedLink = async () => {
    const endpoint = options.linkEndpoint;
    if (!endpoint) return "";
    try {
      const answer = await fetch(endpoint, {
        method: "POST",
        credentials: "include",
        cache: "no-store",
        headers: { Accept: "application/json" },
      });
      if (answer.status === 204 || answer.status === 401 || answer.status === 403) return "";
      if (!answer.ok) {
        warn(`${endpoint} answered ${answer.status}; opening the sign-in page`);
        return "";
      }
      const body = await answer.json();
      if (!body || !body.url) return "";
      const link = signInLink(body.url);
      if (!link) warn(`${endpoint} answered a URL that is not a sign-in link of ${portal}`);
      return link;
    } catch (error) {
      warn(`${endpoint} could not be reached (${error}); opening the sign-in page`);
      return "";
    }
  };

  /* Where the portal opens the first time: the page's link once, else one minted now, else
     the sign-in page. */
  const firstAddress = async () => {
    if (pendingLink) {
      const link = signInLink(pendingLink);
      pendingLink = "";
      if (link) return link;
      warn(`data-link is not a sign-in link of ${portal}`);
    }
    return (await mintedLink()) || `${portal}login`;
  };

  const element = (tag, attributes = {}, children = []) => {
    const made = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes)) made.setAttribute(name, value);
    for (const child of children) made.append(child);
    return made;
  };

  const icon = (path, className) => {
    const svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    svg.setAttribute("class", className);
    const line = document.createElementNS(SVG, "path");
    line.setAttribute("d", path);
    svg.append(line);
    return svg;
  };

  const build = (info) => {
    const labels = info.labels || {};
    const colors = info.colors || {};
    const left = options.position === "left";
    const host = element("div", { "data-patron-launcher": program });
    host.style.setProperty("display", "none"); // until launcher.css is in: no unstyled flash
    for (const [name, value] of Object.entries(colors)) {
      if (COLOR.test(value)) host.style.setProperty(`--patron-${name.replace("_", "-")}`, value);
    }
    const root = host.attachShadow({ mode: "open" });
    const sheet = element("link", { rel: "stylesheet", href: `${patron}/portal-static/launcher.css` });
    sheet.addEventListener("load", () => host.style.removeProperty("display"));
    sheet.addEventListener("error", () =>
      warn(`${patron}/portal-static/launcher.css did not load (is ${patron} in your style-src?)`),
    );

    const button = element(
      "button",
      {
        type: "button",
        class: left ? "launcher launcher--left" : "launcher",
        "aria-haspopup": "dialog",
        "aria-expanded": "false",
        "aria-controls": "patron-panel",
      },
      [
        icon(GIFT, "launcher__icon"),
        element("span", { class: "launcher__label" }, [options.label || labels.open || info.name]),
      ],
    );
    const close = element(
      "button",
      { type: "button", class: "panel__close", "aria-label": labels.close || "Close" },
      [icon("M6 6l12 12M18 6L6 18", "panel__x")],
    );
    const status = element("p", { class: "panel__status", role: "status" });
    const frame = element("iframe", {
      class: "panel__frame",
      title: labels.frame || info.name,
      allow: "clipboard-write",
    });
    const dialog = element(
      "dialog",
      { id: "patron-panel", class: left ? "panel panel--left" : "panel", "aria-label": info.name },
      [close, status, frame],
    );
    root.append(sheet, button, dialog);

    let overflow = "";
    let opener = button; // where focus returns
    const shut = () => {
      if (dialog.open) dialog.close();
    };
    const show = async (from) => {
      if (dialog.open) return;
      const active = document.activeElement;
      opener = from instanceof HTMLElement ? from : active instanceof HTMLElement ? active : button;
      dialog.showModal();
      button.setAttribute("aria-expanded", "true");
      overflow = document.documentElement.style.overflow;
      document.documentElement.style.overflow = "hidden"; // the page behind stays still
      close.focus();
      if (!started) {
        started = true;
        status.textContent = labels.loading || "";
        frame.src = await firstAddress();
      }
    };
    // In a new tab: opened at once (a popup blocker lets a click open one, not a later await),
    // then sent where the link leads.
    const showInTab = async () => {
      const tab = window.open("", "_blank");
      if (tab) tab.opener = null;
      const address = await firstAddress();
      if (tab) tab.location.replace(address);
      else window.location.assign(address);
    };

    const origins = Array.isArray(info.embed_origins) ? info.embed_origins : [];
    const embeddable = typeof dialog.showModal === "function" && origins.includes(location.origin);
    if (!embeddable && typeof dialog.showModal === "function") {
      warn(
        `${location.origin} is not among the program's portal.embed_origins: ` +
          "the portal opens in a new tab instead of the panel",
      );
    }

    const open = embeddable ? show : showInTab;
    button.addEventListener("click", () => open(button));
    document.addEventListener("click", (event) => {
      const trigger = event.target instanceof Element && event.target.closest("[data-patron-open]");
      const plain = event.button === 0 && !event.metaKey && !event.ctrlKey && !event.shiftKey;
      if (!trigger || !plain || event.defaultPrevented) return;
      event.preventDefault();
      open(trigger);
    });
    close.addEventListener("click", shut);
    dialog.addEventListener("close", () => {
      button.setAttribute("aria-expanded", "false");
      document.documentElement.style.overflow = overflow;
      (opener.isConnected && opener !== document.body ? opener : button).focus();
    });
    // A click on the dimmed page around the panel closes it.
    dialog.addEventListener("click", (event) => {
      if (event.target !== dialog) return;
      const box = dialog.getBoundingClientRect();
      const inside =
        event.clientX >= box.left &&
        event.clientX <= box.right &&
        event.clientY >= box.top &&
        event.clientY <= box.bottom;
      if (!inside) shut();
    });
    frame.addEventListener("load", () => {
      if (!frame.getAttribute("src")) return;
      frame.classList.add("is-ready");
      status.textContent = "";
    });
    // Escape pressed inside the portal (portal.js): only from our frame, only from Patron.
    window.addEventListener("message", (event) => {
      const data = event.data;
      if (
        event.origin === patron &&
        event.source === frame.contentWindow &&
        data &&
        data.patron === "close"
      ) {
        shut();
      }
    });

    if (options.button === "none") button.hidden = true;
    document.body.append(host);
    return { open, close: shut };
  };

  window.PatronLauncher = {
    open: () => (ui ? ui.open() : (openWhenReady = true)),
    close: () => ui && ui.close(),
  };

  const start = async () => {
    const answer = await fetch(`${portal}launcher.json`, { credentials: "omit" });
    if (!answer.ok) throw new Error(`${portal}launcher.json answered ${answer.status}`);
    ui = build(await answer.json());
    if (openWhenReady) ui.open();
  };
  const begin = () =>
    start().catch((error) => warn(`not shown: ${error.message || error}`));
  if (document.body) begin();
  else document.addEventListener("DOMContentLoaded", begin);
})();
