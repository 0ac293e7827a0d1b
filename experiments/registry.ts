/** Every experiment, in the book's order. */
import type { Experiment } from "./experiment.js";
import { activationFunctions } from "./activation-functions.js";
import { gradientDescentExperiment } from "./gradient-descent.js";
import { gradientField } from "./gradient-field.js";
import { numericalDerivative } from "./numerical-derivative.js";
import { functionGraphs } from "./function-graphs.js";
import { perceptronGates } from "./perceptron-gates.js";
import { twoLayerNet } from "./two-layer-net.js";
import { optimizerPaths } from "./optimizer-paths.js";
import { optimizersMnist } from "./optimizers-mnist.js";
import { initMnist } from "./init-mnist.js";
import { batchNorm } from "./batch-norm.js";
import { overfitting } from "./overfitting.js";
import { hyperparameterSearch } from "./hyperparameter-search.js";
import { simpleConvnet } from "./simple-convnet.js";
import { misclassified } from "./misclassified.js";
import { halfPrecision } from "./half-precision.js";
import { activationHistograms } from "./activation-histograms.js";
import { languageModel } from "./language-model.js";
import { resnetSkips } from "./resnet-skips.js";
import { transferLearning } from "./transfer-learning.js";
import { fcnDetection } from "./fcn-detection.js";
import { captioning } from "./captioning.js";
import { dcgan } from "./dcgan.js";
import { dqnExperiment } from "./dqn.js";

export const experiments: readonly Experiment[] = [
  perceptronGates,
  activationFunctions,
  numericalDerivative,
  functionGraphs,
  gradientField,
  gradientDescentExperiment,
  twoLayerNet,
  optimizerPaths,
  optimizersMnist,
  activationHistograms,
  initMnist,
  batchNorm,
  overfitting,
  hyperparameterSearch,
  simpleConvnet,
  misclassified,
  halfPrecision,
  resnetSkips,
  transferLearning,
  fcnDetection,
  languageModel,
  captioning,
  dcgan,
  dqnExperiment,
];
