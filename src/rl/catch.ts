import { Rng } from "../rng.js";
import { Canvas, type Rgb } from "./canvas.js";
import { checkAction, type Environment, type RgbImage, type StepResult } from "./environment.js";

export interface CatchOptions {
  /** Screen rows (default 10): a ball falls for rows − 1 steps. */
  rows?: number;
  /** Screen columns (default 10). */
  columns?: number;
  /** Paddle width in pixels, odd (default 3). */
  paddleWidth?: number;
}

/**
 * Catch, a pixel game: a ball starts in a random column of the top row and falls one row per step,
 * drifting one column left, none or one right per step (its drift is random, and it bounces off
 * the side walls); a paddle on the bottom row moves one column left (action 0), stays (1) or moves
 * right (2). When the ball reaches the bottom row the episode terminates with reward +1 if the
 * paddle is under it and −1 if not; every other step gives 0. The observation is the screen,
 * (1, rows, columns), 1 where the ball or the paddle is and 0 elsewhere.
 *
 * One frame shows where the ball is but not where it drifts: the agent needs two frames (a
 * FrameStack) to know. Every ball can be caught: the paddle starts in the middle and can cross
 * half the screen before the ball lands.
 *
 * Each step the paddle moves first, then the ball (col += drift; past a wall it reflects:
 * −1 → 1, columns → columns − 2, and the drift changes sign), then the ball row grows by one.
 */
export class Catch implements Environment {
  readonly name = "catch";
  readonly actions = ["left", "stay", "right"] as const;
  readonly rows: number;
  readonly columns: number;
  readonly paddleWidth: number;
  readonly observationShape: readonly number[];
  ballRow = 0;
  ballColumn = 0;
  /** −1, 0 or +1 columns per step. */
  drift = 0;
  /** The paddle's centre column. */
  paddle = 0;
  #over = true;

  constructor({ rows = 10, columns = 10, paddleWidth = 3 }: CatchOptions = {}) {
    if (!(Number.isInteger(paddleWidth) && paddleWidth >= 1 && paddleWidth % 2 === 1)) {
      throw new RangeError(`Catch paddleWidth must be an odd integer ≥ 1, got ${paddleWidth}`);
    }
    if (!(Number.isInteger(columns) && columns >= Math.max(paddleWidth, 2))) {
      throw new RangeError(`Catch columns must be an integer ≥ 2 and ≥ the paddle width, got ${columns}`);
    }
    // The paddle must be able to reach any column from the middle before the ball lands.
    const reach = Math.ceil((columns - paddleWidth) / 2);
    if (!(Number.isInteger(rows) && rows - 1 >= reach && rows >= 3)) {
      throw new RangeError(
        `Catch rows must be an integer ≥ 3 and ≥ ${reach + 1} (for the paddle to reach every column), got ${rows}`,
      );
    }
    this.rows = rows;
    this.columns = columns;
    this.paddleWidth = paddleWidth;
    this.observationShape = [1, rows, columns];
  }

  /** The ball's column uniform over the top row, its drift uniform over −1, 0, +1; the paddle centred. */
  reset(seed: number): Float32Array {
    const rng = new Rng(seed);
    this.ballRow = 0;
    this.ballColumn = rng.int(this.columns);
    this.drift = rng.int(3) - 1;
    this.paddle = Math.floor((this.columns - 1) / 2);
    this.#over = false;
    return this.observation();
  }

  /** Starts an episode from a given position (for tests and demonstrations). */
  resetTo({
    ballRow = 0,
    ballColumn,
    drift,
    paddle,
  }: {
    ballRow?: number;
    ballColumn: number;
    drift: number;
    paddle: number;
  }): Float32Array {
    this.ballRow = ballRow;
    this.ballColumn = ballColumn;
    this.drift = drift;
    this.paddle = paddle;
    this.#over = false;
    return this.observation();
  }

  step(action: number): StepResult {
    checkAction(this, action);
    if (this.#over) throw new Error("catch: the episode is over; call reset(seed) first");
    const half = (this.paddleWidth - 1) / 2;
    this.paddle = Math.min(this.columns - 1 - half, Math.max(half, this.paddle + action - 1));
    let column = this.ballColumn + this.drift;
    if (column < 0 || column >= this.columns) {
      column = column < 0 ? -column : 2 * (this.columns - 1) - column;
      this.drift = -this.drift;
    }
    this.ballColumn = column;
    this.ballRow++;
    const terminated = this.ballRow === this.rows - 1;
    const reward = terminated ? (Math.abs(this.ballColumn - this.paddle) <= half ? 1 : -1) : 0;
    this.#over = terminated;
    return { observation: this.observation(), reward, terminated, truncated: false };
  }

  /** The screen as the agent sees it: (1, rows, columns). */
  observation(): Float32Array {
    const frame = new Float32Array(this.rows * this.columns);
    const half = (this.paddleWidth - 1) / 2;
    for (let c = this.paddle - half; c <= this.paddle + half; c++)
      frame[(this.rows - 1) * this.columns + c] = 1;
    frame[this.ballRow * this.columns + this.ballColumn] = 1;
    return frame;
  }

  /** The screen at 16 pixels per cell: a red ball, a dark paddle, on a light grid. */
  render(): RgbImage {
    const cell = 16;
    const canvas = new Canvas(this.columns * cell, this.rows * cell, [245, 245, 240]);
    const grid: Rgb = [225, 225, 220];
    for (let r = 0; r < this.rows; r++) canvas.fillRect(0, r * cell, this.columns * cell, r * cell + 1, grid);
    for (let c = 0; c < this.columns; c++) canvas.fillRect(c * cell, 0, c * cell + 1, this.rows * cell, grid);
    const half = (this.paddleWidth - 1) / 2;
    const y = (this.rows - 1) * cell;
    canvas.fillRect(
      (this.paddle - half) * cell + 1,
      y + 4,
      (this.paddle + half + 1) * cell - 1,
      y + cell - 2,
      [40, 40, 60],
    );
    canvas.fillCircle((this.ballColumn + 0.5) * cell, (this.ballRow + 0.5) * cell, cell * 0.4, [210, 40, 40]);
    return canvas;
  }
}
