/**
 * Xception weights: the validated container {@link io.jxception.weights.XceptionWeights} and the
 * files it comes from and goes to.
 *
 * <h2>Entry point</h2>
 * {@link io.jxception.weights.WeightsFiles}: {@code load(path, graph)}, {@code inferConfig(path, h, w)},
 * {@code save(path, weights)}. The format is told by the first bytes ({@link io.jxception.weights.WeightsFormat});
 * every problem is a {@link io.jxception.weights.WeightsFileException} whose message starts with the file
 * name and says what to do. {@link io.jxception.internal.weights.KnownWeights} lists keras.applications' files
 * (weights/manifest.json) with md5 and size.
 *
 * <h2>Keras .h5 (Keras 2 layout, read with jhdf)</h2>
 * Root attribute {@code layer_names} (topological order), a group per layer with {@code weight_names}
 * ("block1_conv1/kernel:0"), datasets {@code <layer>/<weight name>}; a whole-model file keeps the same
 * under {@code model_weights}. Truncation is caught from the superblock's end-of-file address before
 * anything else is read. Keras 3 ".weights.h5" files are refused with that explanation.
 *
 * <h2>Matching layers</h2>
 * Named layers match by name. The four residual convs and their batch norms have generated names
 * (conv2d, conv2d_1, ... numbered per Keras session, so a file may start at conv2d_4): the k-th
 * generated conv of the file is the graph's k-th residual conv, likewise the batch norms, taking the
 * file's layer order for .h5 and the name's number for safetensors (which keeps no order). All shapes
 * are checked before values are read; values must be finite and variances non-negative. A file with
 * the classifier loads into a graph without the top.
 *
 * <h2>safetensors (own reader and writer)</h2>
 * Validated as the reference Rust implementation does: header size ≤ 100 MB and within the file,
 * UTF-8 JSON object (strict parser, {@link io.jxception.internal.json.Json}), known dtypes, shape × dtype
 * overflow-checked and equal to the byte span, spans contiguous from 0 and covering the data exactly.
 * F32, F16, BF16 and F64 read as float32. Keys are Keras keys ("block1_conv1/kernel") in Keras layouts,
 * or timm legacy_xception names in PyTorch layouts ({@link io.jxception.internal.weights.TimmNames} documents the
 * module-to-layer map). Written files hold float32 Keras keys in graph order with the configuration in
 * {@code __metadata__}, written atomically.
 *
 * <h2>Fixtures</h2>
 * weights/fixtures/h5, written by {@code /usr/bin/python3 weights/fixtures/generate_h5_fixtures.py}
 * (Debian python3-h5py, python3-numpy); the script's docstring lists each file and why it exists.
 */
package io.jxception.weights;
