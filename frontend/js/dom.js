// Small DOM helpers shared by the view modules. Everything that came from a user or the server
// goes in through textContent (el's `text`, or a string child), never innerHTML.

const dateFormat = new Intl.DateTimeFormat(undefined, {
  weekday: "short", day: "numeric", month: "short", year: "numeric",
  hour: "numeric", minute: "2-digit", timeZoneName: "short",
});

export function formatTime(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? "" : dateFormat.format(date);
}

/** el("p", {class: "x", text: "…", "aria-label": "…"}, child, …): an element with its attributes and children. */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue;
    if (name === "class") node.className = value;
    else if (name === "text") node.textContent = value;
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children) {
    if (child !== null && child !== undefined) node.append(child);  // strings become text nodes
  }
  return node;
}

/** The element marked data-role="<role>" inside root. */
export function part(root, role) {
  return root.querySelector(`[data-role="${role}"]`);
}

export function plural(count, word) {
  return `${count} ${word}${count === 1 ? "" : "s"}`;
}

/** A message area (role=status or role=alert): a headline and optional detail nodes. */
export function showMessage(region, headline, ...detail) {
  region.replaceChildren();
  if (!headline) return;
  region.append(el("p", { class: "message-headline", text: headline }));
  for (const item of detail) {
    if (item) region.append(typeof item === "string" ? el("p", { text: item }) : item);
  }
}

export function setTitle(text) {
  document.title = text ? `${text} — Modex` : "Modex — pick your seats";
}
