/**
 * The book's multiplication node on plain numbers (chapter 5's computational graph):
 * forward z = x·y; backward swaps the inputs, dx = dout·y, dy = dout·x.
 */
export class MulLayer {
  #x = 0;
  #y = 0;

  forward(x: number, y: number): number {
    this.#x = x;
    this.#y = y;
    return x * y;
  }

  backward(dout: number): [dx: number, dy: number] {
    return [dout * this.#y, dout * this.#x];
  }
}
