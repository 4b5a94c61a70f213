// A roving tabindex over a grid of buttons (the seat map): the whole grid is one Tab stop, and
// the arrow keys move between its enabled buttons. Left/Right and Home/End stay in the row;
// Up/Down go to the nearest row with an enabled button, to the one closest to the same column.
// A `linear` grid (the sections of the overview: one row) takes Up/Down as Left/Right.

export class RovingFocus {
  /** Listens for the keys on `container`, for buttons matching `selector`. */
  constructor(container, selector, { linear = false } = {}) {
    this.rows = [];        // [[button, ...], ...] in map order
    this.current = null;   // the one button in the tab order
    this.linear = linear;
    container.addEventListener("keydown", (event) => {
      const button = event.target.closest(selector);
      if (!button || event.altKey || event.ctrlKey || event.metaKey) return;
      if (this.move(button, event.key)) event.preventDefault();
    });
  }

  /** A new grid (or none); nothing is in the tab order until sync(). */
  reset(rows = []) {
    this.rows = rows;
    this.current = null;
  }

  /** The button clicked or picked becomes the one in the tab order at the next sync(). */
  remember(button) {
    this.current = button;
  }

  /** Exactly one enabled button is reachable with Tab; call after buttons were enabled or disabled. */
  sync() {
    const current = this.current;
    let target = current && !current.disabled ? current : null;
    if (!target) target = this.nearestEnabled(current);
    const focusWasLost = current && current !== target && document.activeElement === current;
    for (const button of this.rows.flat()) button.tabIndex = button === target ? 0 : -1;
    this.current = target;
    if (focusWasLost && target) target.focus();  // a seat that just got booked under the keyboard
  }

  nearestEnabled(from) {
    const order = this.rows.flat();
    const start = Math.max(0, order.indexOf(from));
    for (let distance = 0; distance < order.length; distance += 1) {
      for (const index of [start + distance, start - distance]) {
        const button = order[index];
        if (button && !button.disabled) return button;
      }
    }
    return null;
  }

  /** Moves focus from `from` for `key`; false when the key is not one of ours. */
  move(from, key) {
    if (this.linear) key = { ArrowUp: "ArrowLeft", ArrowDown: "ArrowRight" }[key] || key;
    const rowIndex = this.rows.findIndex((buttons) => buttons.includes(from));
    if (rowIndex < 0) return false;
    const row = this.rows[rowIndex];
    const enabled = (button) => button !== undefined && !button.disabled;
    let target;
    const column = row.indexOf(from);
    if (key === "ArrowLeft") target = row.slice(0, column).reverse().find(enabled);
    else if (key === "ArrowRight") target = row.slice(column + 1).find(enabled);
    else if (key === "Home") target = row.find(enabled);
    else if (key === "End") target = [...row].reverse().find(enabled);
    else if (key === "ArrowUp" || key === "ArrowDown") {
      const step = key === "ArrowUp" ? -1 : 1;
      for (let r = rowIndex + step; r >= 0 && r < this.rows.length && !target; r += step) {
        const other = this.rows[r];
        const candidates = other.filter(enabled);
        // The button closest to the same column, so moving up and down keeps its line.
        candidates.sort((a, b) => Math.abs(other.indexOf(a) - column) - Math.abs(other.indexOf(b) - column));
        target = candidates[0];
      }
    } else return false;
    if (target) {
      this.current = target;
      this.sync();
      target.focus();
    }
    return true;
  }
}
