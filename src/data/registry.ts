/**
 * The datasets zerodl knows by name: their four files, each file's size and SHA-256, where the
 * files can be downloaded, and the class names. Every loader checks a file against this table
 * before using it.
 */
import { unknownOption } from "../errors.js";

/** A file's length and SHA-256 (lowercase hex). */
export interface Digest {
  readonly bytes: number;
  readonly sha256: string;
}

/**
 * One data file in two forms: the gzip archive that the mirrors serve (`gz`), and its content,
 * the uncompressed IDX file (`raw`). A file is accepted when it is exactly the archive, or when it
 * is (or decompresses to) exactly the content: a re-compressed copy is as good as the original.
 */
export interface DataFile {
  /** The archive's name on the mirrors, e.g. "train-images-idx3-ubyte.gz". */
  readonly name: string;
  readonly gz: Digest;
  readonly raw: Digest;
}

export type DatasetName = "mnist" | "fashion-mnist";
export const datasetNames: readonly DatasetName[] = ["mnist", "fashion-mnist"];

export interface DatasetInfo {
  readonly name: string;
  readonly title: string;
  readonly files: {
    readonly trainImages: DataFile;
    readonly trainLabels: DataFile;
    readonly testImages: DataFile;
    readonly testLabels: DataFile;
  };
  /** (height, width) of every image. */
  readonly imageShape: readonly [number, number];
  readonly classNames: readonly string[];
  /** Base URLs that serve the four archives under their names, tried in this order. */
  readonly mirrors: readonly string[];
  /** A copy shipped in this package, relative to the package root. */
  readonly bundledDir?: string;
  /** Where operating-system packages install a copy. */
  readonly systemDirs: readonly string[];
}

export type FileKey = keyof DatasetInfo["files"];
export const fileKeys: readonly FileKey[] = ["trainImages", "trainLabels", "testImages", "testLabels"];

/** The original MNIST release; checksums as in data/mnist/SOURCE.md. */
export const mnist: DatasetInfo = {
  name: "mnist",
  title: "MNIST handwritten digits",
  files: {
    trainImages: {
      name: "train-images-idx3-ubyte.gz",
      gz: { bytes: 9_912_422, sha256: "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609" },
      raw: { bytes: 47_040_016, sha256: "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db" },
    },
    trainLabels: {
      name: "train-labels-idx1-ubyte.gz",
      gz: { bytes: 28_881, sha256: "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c" },
      raw: { bytes: 60_008, sha256: "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5" },
    },
    testImages: {
      name: "t10k-images-idx3-ubyte.gz",
      gz: { bytes: 1_648_877, sha256: "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6" },
      raw: { bytes: 7_840_016, sha256: "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7" },
    },
    testLabels: {
      name: "t10k-labels-idx1-ubyte.gz",
      gz: { bytes: 4_542, sha256: "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6" },
      raw: { bytes: 10_008, sha256: "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2" },
    },
  },
  imageShape: [28, 28],
  classNames: ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"],
  mirrors: [
    // torchvision's first mirror, and the one the book's repository (dataset/mnist.py) uses today.
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    // The CVDF mirror TensorFlow uses.
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    // The original host; it often answers 403 now, so it comes last.
    "http://yann.lecun.com/exdb/mnist/",
  ],
  bundledDir: "data/mnist",
  systemDirs: [],
};

/**
 * Fashion-MNIST (Zalando Research, MIT licence), a drop-in replacement for MNIST.
 *
 * `gz`: the archives as published. Their MD5s are in the zalandoresearch/fashion-mnist README
 * (8d4fb7e6c68d591d4c3dfef9ec88bf0d, 25c81989df183df01b3e8a0aad5dffbe, bef4ecab320f06d8554ea6380940ec79,
 * bb300cfdad3c16e7a12a480ee83cd310, in the order below); the SHA-256s and sizes are the values
 * several independent public loaders pin for the same URLs.
 *
 * `raw`: the uncompressed IDX files, measured on Debian's `dataset-fashion-mnist`
 * (0.0~git20200523.55506a9-1, /usr/share/datasets/fashion-mnist/). Debian re-wrote the gzip
 * headers (no stored file name, mtime 2020-06-05), so its .gz files do NOT match the published
 * MD5s; each is shorter than the published archive by exactly the stored-name field it dropped
 * (24 bytes for train-*, 23 for t10k-*), and the contents are 60000/10000 images of 28×28 with
 * 6000/1000 of each label, and the first ten labels (train 9 0 0 3 0 2 7 2 5 5, test 9 2 1 1 6 1 4 6 5 7)
 * are those that loaders of the published files print. That is why files are verified by content.
 */
export const fashionMnist: DatasetInfo = {
  name: "fashion-mnist",
  title: "Fashion-MNIST (Zalando article images)",
  files: {
    trainImages: {
      name: "train-images-idx3-ubyte.gz",
      gz: { bytes: 26_421_880, sha256: "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84" },
      raw: { bytes: 47_040_016, sha256: "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888" },
    },
    trainLabels: {
      name: "train-labels-idx1-ubyte.gz",
      gz: { bytes: 29_515, sha256: "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845" },
      raw: { bytes: 60_008, sha256: "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9" },
    },
    testImages: {
      name: "t10k-images-idx3-ubyte.gz",
      gz: { bytes: 4_422_102, sha256: "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073" },
      raw: { bytes: 7_840_016, sha256: "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b" },
    },
    testLabels: {
      name: "t10k-labels-idx1-ubyte.gz",
      gz: { bytes: 5_148, sha256: "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5" },
      raw: { bytes: 10_008, sha256: "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34" },
    },
  },
  imageShape: [28, 28],
  classNames: [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
  ],
  mirrors: [
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
    // Keras serves the same four archives under the same names.
    "https://storage.googleapis.com/tensorflow/tf-keras-datasets/",
  ],
  systemDirs: ["/usr/share/datasets/fashion-mnist"],
};

export const datasets: Record<DatasetName, DatasetInfo> = {
  mnist,
  "fashion-mnist": fashionMnist,
};

/** The registry entry for a dataset name; an unknown name is an error listing the known ones. */
export function datasetInfo(name: string): DatasetInfo {
  if (!(name in datasets)) throw unknownOption("dataset", name, datasetNames);
  return datasets[name as DatasetName];
}
