// Polls on a timer: `round()` every `interval` ms after the previous round ended, one round at a
// time, never while the tab is hidden (coming back runs one at once). A round that comes due
// while another is still running, or while `wait()` says so, is put off by another interval.

export class Poller {
  constructor(round, { interval, wait = () => false }) {
    this.round = round;        // async; a failed round is harmless, the next one catches up
    this.interval = interval;
    this.wait = wait;
    this.timer = null;
    this.running = false;
    this.session = null;       // set from start() to stop(); a round re-arms only in its own session
    document.addEventListener("visibilitychange", () => {
      if (!this.session) return;
      if (document.hidden) this.cancel();
      else if (!this.timer && !this.running) this.run();
    });
  }

  /** Starts polling: the first round one interval from now. */
  start() {
    this.session = {};
    this.arm();
  }

  /** Stops polling; a round in flight still ends, but arms nothing. */
  stop() {
    this.session = null;
    this.cancel();
  }

  /** A round right away instead of at the next tick (e.g. to catch up after a change of ours). */
  now() {
    this.cancel();
    return this.run();
  }

  arm() {
    this.cancel();
    if (!document.hidden) this.timer = setTimeout(() => this.run(), this.interval);
  }

  cancel() {
    clearTimeout(this.timer);
    this.timer = null;
  }

  async run() {
    this.timer = null;
    if (this.running || this.wait()) return this.arm();
    const session = this.session;
    this.running = true;
    try {
      await this.round();
    } catch (error) {
      // A missed round is harmless; the next one catches up.
    } finally {
      this.running = false;
      if (session && this.session === session) this.arm();
    }
  }
}
