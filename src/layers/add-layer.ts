/** The book's addition node on plain numbers: forward z = x + y; backward passes dout to both. */
export class AddLayer {
  forward(x: number, y: number): number {
    return x + y;
  }

  backward(dout: number): [dx: number, dy: number] {
    return [dout, dout];
  }
}
