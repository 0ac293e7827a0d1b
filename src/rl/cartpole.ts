import { Rng } from "../rng.js";
import { Canvas } from "./canvas.js";
import { checkAction, type Environment, type RgbImage, type StepResult } from "./environment.js";

export interface CartPoleOptions {
  /** The time limit: an episode is truncated after this many steps (CartPole-v1: 500). */
  maxSteps?: number;
}

/**
 * The classic cart-and-pole (Barto, Sutton & Anderson 1983) with Gymnasium CartPole-v1's constants,
 * limits and Euler integration: push the cart left (0) or right (1) with 10 N; the reward is 1 for
 * every step, the step that ends the episode included. The episode terminates when the pole leans
 * more than 12° or the cart leaves ±2.4 m, and is truncated after 500 steps (the best return is 500).
 * Observation: [x, ẋ, θ, θ̇] (m, m/s, rad, rad/s), θ = 0 upright, positive to the right.
 */
export class CartPole implements Environment {
  static readonly gravity = 9.8;
  static readonly massCart = 1.0;
  static readonly massPole = 0.1;
  /** Half the pole's length (m). */
  static readonly length = 0.5;
  static readonly forceMag = 10.0;
  /** Seconds per step. */
  static readonly tau = 0.02;
  static readonly thetaThreshold = (12 * 2 * Math.PI) / 360;
  static readonly xThreshold = 2.4;

  readonly name = "cartpole";
  readonly observationShape = [4] as const;
  readonly actions = ["left", "right"] as const;
  readonly maxSteps: number;
  /** x, ẋ, θ, θ̇ in float64 (the observation is its float32 copy). */
  readonly state = new Float64Array(4);
  #steps = 0;
  #over = true;

  constructor({ maxSteps = 500 }: CartPoleOptions = {}) {
    if (!(Number.isInteger(maxSteps) && maxSteps > 0)) {
      throw new RangeError(`CartPole maxSteps must be an integer > 0, got ${maxSteps}`);
    }
    this.maxSteps = maxSteps;
  }

  /** Every state variable uniform in [−0.05, 0.05), as Gymnasium. */
  reset(seed: number): Float32Array {
    const rng = new Rng(seed);
    for (let i = 0; i < 4; i++) this.state[i] = rng.uniform(-0.05, 0.05);
    this.#steps = 0;
    this.#over = false;
    return Float32Array.from(this.state);
  }

  /** Starts an episode from a given state (for tests and demonstrations). */
  resetTo(state: readonly [number, number, number, number]): Float32Array {
    this.state.set(state);
    this.#steps = 0;
    this.#over = false;
    return Float32Array.from(this.state);
  }

  step(action: number): StepResult {
    checkAction(this, action);
    if (this.#over) throw new Error("cartpole: the episode is over; call reset(seed) first");
    const { gravity, massCart, massPole, length, forceMag, tau } = CartPole;
    const totalMass = massCart + massPole;
    const poleMassLength = massPole * length;
    const [x, xDot, theta, thetaDot] = this.state;
    const force = action === 1 ? forceMag : -forceMag;
    const cos = Math.cos(theta);
    const sin = Math.sin(theta);
    // The equations of motion (Florian 2007, "Correct equations for the dynamics of the cart-pole
    // system"), with the pole's inertia of a uniform rod, as Gymnasium.
    const temp = (force + poleMassLength * thetaDot * thetaDot * sin) / totalMass;
    const thetaAcc = (gravity * sin - cos * temp) / (length * (4 / 3 - (massPole * cos * cos) / totalMass));
    const xAcc = temp - (poleMassLength * thetaAcc * cos) / totalMass;
    // Explicit Euler: positions move with the old velocities.
    this.state[0] = x + tau * xDot;
    this.state[1] = xDot + tau * xAcc;
    this.state[2] = theta + tau * thetaDot;
    this.state[3] = thetaDot + tau * thetaAcc;
    this.#steps++;
    const terminated =
      Math.abs(this.state[0]) > CartPole.xThreshold || Math.abs(this.state[2]) > CartPole.thetaThreshold;
    const truncated = !terminated && this.#steps >= this.maxSteps;
    this.#over = terminated || truncated;
    return { observation: Float32Array.from(this.state), reward: 1, terminated, truncated };
  }

  /** Gymnasium's picture at half size: 300 × 200, 62.5 pixels per metre, the picture ±2.4 m wide. */
  render(): RgbImage {
    const width = 300;
    const height = 200;
    const scale = width / (2 * CartPole.xThreshold);
    const canvas = new Canvas(width, height);
    const trackY = height - 50;
    canvas.fillRect(0, trackY, width, trackY + 1, [0, 0, 0]);
    const cartX = this.state[0] * scale + width / 2;
    const cartW = 25;
    const cartH = 15;
    const axleY = trackY - cartH / 4;
    canvas.fillRect(cartX - cartW / 2, trackY - cartH / 2, cartX + cartW / 2, trackY + cartH / 2, [0, 0, 0]);
    // The pole: 2·length long, 5 px wide, pivoting at the axle, θ clockwise from upright.
    const poleLen = scale * 2 * CartPole.length;
    const half = 2.5;
    const theta = this.state[2];
    const ux = Math.sin(theta);
    const uy = -Math.cos(theta);
    const corners: [number, number][] = [
      [cartX - half * uy, axleY + half * ux],
      [cartX + half * uy, axleY - half * ux],
      [cartX + half * uy + poleLen * ux, axleY - half * ux + poleLen * uy],
      [cartX - half * uy + poleLen * ux, axleY + half * ux + poleLen * uy],
    ];
    canvas.fillPolygon(corners, [202, 152, 101]);
    canvas.fillCircle(cartX, axleY, half, [129, 132, 203]);
    return canvas;
  }
}
