import { describe, expect, it } from "vitest";
import { CartPole } from "./cartpole.js";
import { Catch } from "./catch.js";
import { FrameStack } from "./frame-stack.js";

describe("CartPole", () => {
  it("one push right from rest, by hand: ẍ = 400/41, θ̈ = −600/41", () => {
    // temp = F/(M+m) = 100/11; θ̈ = (g·0 − 1·temp) / (l·(4/3 − m/(M+m))) = −(100/11)/(41/66) = −600/41;
    // ẍ = temp − m·l·θ̈/(M+m) = 100/11 + 300/451 = 400/41. Euler with τ = 0.02: x and θ keep 0.
    const env = new CartPole();
    env.resetTo([0, 0, 0, 0]);
    const { observation, reward, terminated, truncated } = env.step(1);
    expect([...env.state]).toEqual(
      [0, 0.02 * (400 / 41), 0, 0.02 * (-600 / 41)].map((v) => expect.closeTo(v, 12)),
    );
    expect(observation).toEqual(Float32Array.from(env.state));
    expect([reward, terminated, truncated]).toEqual([1, false, false]);
    // Then a push left: the accelerations flip sign, the velocities return to 0, x and θ move
    // with the old velocities: x = 0.02·8/41, θ = −0.02·12/41.
    env.step(0);
    expect([...env.state]).toEqual([0.16 / 41, 0, -0.24 / 41, 0].map((v) => expect.closeTo(v, 12)));
  });

  it("a leaning pole, by hand: θ = 0.1, push right", () => {
    // sin 0.1 = 0.0998334, cos 0.1 = 0.9950042; temp = 9.0909091;
    // θ̈ = (9.8·0.0998334 − 0.9950042·9.0909091) / (0.5·(4/3 − 0.1·0.9900333/1.1)) = −8.0671252/0.6216652 = −12.976714
    // ẍ = 9.0909091 + 0.05·12.976714·0.9950042/1.1 = 9.677813
    const env = new CartPole();
    env.resetTo([0, 0, 0.1, 0]);
    env.step(1);
    const [x, xDot, theta, thetaDot] = env.state;
    expect(x).toBe(0);
    expect(xDot).toBeCloseTo(0.02 * 9.677813, 5);
    expect(theta).toBeCloseTo(0.1, 12);
    expect(thetaDot).toBeCloseTo(0.02 * -12.976714, 5);
  });

  it("terminates past ±2.4 m or ±12°, with the reward of that step", () => {
    const env = new CartPole();
    env.resetTo([2.39, 1, 0, 0]); // x → 2.39 + 0.02·1 = 2.41
    expect(env.step(1)).toMatchObject({ reward: 1, terminated: true, truncated: false });
    expect(() => env.step(1)).toThrow(/episode is over/);
    env.resetTo([0, 0, 0.2, 2]); // θ → 0.2 + 0.02·2 = 0.24 > 12° = 0.2094
    expect(env.step(1).terminated).toBe(true);
    env.resetTo([0, 0, 0.2, 0.4]); // θ → 0.208 < 0.2094
    expect(env.step(1).terminated).toBe(false);
  });

  it("is truncated at the 500th step when the pole stays up", () => {
    const env = new CartPole();
    let obs = env.reset(3);
    let steps = 0;
    for (;;) {
      // A hand-made controller: push toward where the pole is falling.
      const action = obs[2] + 0.5 * obs[3] + 0.01 * obs[0] + 0.1 * obs[1] > 0 ? 1 : 0;
      const r = env.step(action);
      steps++;
      expect(r.terminated).toBe(false);
      if (r.truncated) break;
      obs = r.observation;
    }
    expect(steps).toBe(500);
  });

  it("resets from its seed: uniform in ±0.05, the same seed the same state", () => {
    const env = new CartPole();
    const a = env.reset(7);
    expect(env.reset(7)).toEqual(a);
    expect(env.reset(8)).not.toEqual(a);
    for (let seed = 0; seed < 50; seed++) {
      for (const v of env.reset(seed)) expect(Math.abs(v)).toBeLessThan(0.05);
    }
    expect(() => env.step(2)).toThrow(/action 2 is not one of 0 … 1 \(left, right\)/);
  });

  it("renders the cart and the pole", () => {
    const env = new CartPole();
    env.resetTo([0, 0, 0, 0]);
    const upright = env.render();
    expect([upright.width, upright.height, upright.data.length]).toEqual([300, 200, 300 * 200 * 3]);
    const pixel = (img: typeof upright, x: number, y: number) => [
      ...img.data.subarray(3 * (y * 300 + x), 3 * (y * 300 + x) + 3),
    ];
    // The pole rises from the axle (y ≈ 146) 62.5 px up the middle; the cart is black at the centre.
    expect(pixel(upright, 150, 110)).toEqual([202, 152, 101]);
    expect(pixel(upright, 140, 152)).toEqual([0, 0, 0]);
    expect(pixel(upright, 150, 30)).toEqual([255, 255, 255]);
    env.resetTo([1, 0, 0, 0]); // 1 m right = 62.5 px
    expect(pixel(env.render(), 150 + 62, 110)).toEqual([202, 152, 101]);
  });
});

describe("Catch", () => {
  it("plays a hand-computed episode: a bounce, three moves left, a catch", () => {
    const env = new Catch();
    let obs = env.resetTo({ ballColumn: 8, drift: 1, paddle: 4 });
    // The ball at (0, 8), the paddle on columns 3–5 of row 9.
    expect(obs[8]).toBe(1);
    expect([...obs.subarray(90, 100)]).toEqual([0, 0, 0, 1, 1, 1, 0, 0, 0, 0]);
    expect(obs.reduce((a, b) => a + b, 0)).toBe(4);
    // The ball's columns: 9, then 10 → reflected to 8 (drift −1), 7, 6, 5, 4, 3, 2, 1 at row 9.
    const columns = [9, 8, 7, 6, 5, 4, 3, 2, 1];
    const actions = [0, 0, 0, 1, 1, 1, 1, 1, 1]; // the paddle: 3, 2, 1, then stays (clamped at 1)
    const paddles = [3, 2, 1, 1, 1, 1, 1, 1, 1];
    for (let t = 0; t < 9; t++) {
      const r = env.step(actions[t]);
      expect([env.ballRow, env.ballColumn, env.paddle]).toEqual([t + 1, columns[t], paddles[t]]);
      expect(r.reward).toBe(t === 8 ? 1 : 0);
      expect(r.terminated).toBe(t === 8);
      obs = r.observation;
    }
    expect(env.drift).toBe(-1);
    expect([...obs.subarray(90, 100)]).toEqual([1, 1, 1, 0, 0, 0, 0, 0, 0, 0]); // ball on the paddle
    expect(() => env.step(1)).toThrow(/episode is over/);
  });

  it("misses with −1 when the paddle stays", () => {
    const env = new Catch();
    env.resetTo({ ballColumn: 8, drift: 1, paddle: 4 });
    let last = env.step(1);
    for (let t = 1; t < 9; t++) last = env.step(1);
    expect(last).toMatchObject({ reward: -1, terminated: true, truncated: false });
    // Left wall: from column 0 with drift −1 the ball bounces to column 1.
    env.resetTo({ ballColumn: 0, drift: -1, paddle: 4 });
    env.step(2); // the paddle moves right first
    expect([env.ballColumn, env.drift, env.paddle]).toEqual([1, 1, 5]);
    env.resetTo({ ballColumn: 0, drift: 0, paddle: 8 });
    env.step(2); // the paddle stops at the right wall
    expect(env.paddle).toBe(8);
  });

  it("resets from its seed over every column and drift", () => {
    const env = new Catch();
    const seen = new Set<string>();
    for (let seed = 0; seed < 300; seed++) {
      const obs = env.reset(seed);
      expect(env.reset(seed)).toEqual(obs);
      expect(env.paddle).toBe(4);
      seen.add(`${env.ballColumn},${env.drift}`);
    }
    expect(seen.size).toBe(30);
  });

  it("checks its options and actions", () => {
    expect(() => new Catch({ paddleWidth: 2 })).toThrow(/odd/);
    expect(() => new Catch({ rows: 3, columns: 20 })).toThrow(/rows must be/);
    expect(new Catch({ rows: 5, columns: 6 }).observationShape).toEqual([1, 5, 6]);
    const env = new Catch();
    env.reset(0);
    expect(() => env.step(3)).toThrow(/action 3 is not one of 0 … 2 \(left, stay, right\)/);
  });

  it("renders a red ball and a dark paddle, 16 px per cell", () => {
    const env = new Catch();
    env.resetTo({ ballColumn: 2, drift: 0, paddle: 6 });
    const img = env.render();
    expect([img.width, img.height]).toEqual([160, 160]);
    const pixel = (x: number, y: number) => [...img.data.subarray(3 * (y * 160 + x), 3 * (y * 160 + x) + 3)];
    expect(pixel(2 * 16 + 8, 8)).toEqual([210, 40, 40]);
    expect(pixel(6 * 16 + 8, 9 * 16 + 8)).toEqual([40, 40, 60]);
    expect(pixel(2 * 16 + 8, 9 * 16 + 8)).toEqual([245, 245, 240]);
  });
});

describe("FrameStack", () => {
  it("stacks the last k frames along the channels, oldest first", () => {
    const env = new FrameStack(new Catch(), 2);
    expect(env.observationShape).toEqual([2, 10, 10]);
    const first = env.reset(5);
    expect(first.subarray(0, 100)).toEqual(first.subarray(100, 200)); // the first frame twice
    const inner = env.env as Catch;
    const before = inner.observation();
    const { observation } = env.step(1);
    expect(observation.subarray(0, 100)).toEqual(before);
    expect(observation.subarray(100, 200)).toEqual(inner.observation());
    expect(() => new FrameStack(new Catch(), 0)).toThrow(/k must be/);
  });
});
