"""Ready-made Keras networks, built from what SciKeras learns of the data.

Each builder takes SciKeras's ``meta`` (the shape of ``X``, the classes,
the outputs) and ``compile_kwargs`` (the optimizer with its routed
``optimizer__`` parameters, the loss, the metrics), returns a compiled
model, and has its own parameters, searched as ``model__<name>``.  The
output layer and, when ``loss`` is None, the loss follow from the task:

========================  ===================  ===============================
target                    output               loss
========================  ===================  ===============================
binary                    1 sigmoid unit       binary cross-entropy
multiclass                a softmax unit each  sparse categorical cross-entropy
multilabel indicator      a sigmoid unit each  binary cross-entropy
continuous (regression)   a linear unit each   mean squared error
========================  ===================  ===============================

Per-layer values: with ``n_layers`` given, layer ``i`` takes ``units_i``
and ``dropout_i`` when they are passed (``model__units_0``, ...; what
``sk_hpo.PerLayer`` searches), else ``units`` and ``dropout``; likewise
``filters_i`` with ``n_conv_layers`` and ``dense_units_i`` with
``n_dense_layers`` in the convolutional network.  Any other extra keyword
is refused, naming the parameters the builder takes.
"""

import math
import numbers

import keras

from .._search_space import split_layer_name


def _hidden_sizes(hidden_layer_sizes):
    if isinstance(hidden_layer_sizes, numbers.Integral):  # numpy integers too
        return (int(hidden_layer_sizes),)
    return tuple(int(size) for size in hidden_layer_sizes)


def _per_layer(builder, per_layer, allowed):
    """``{base: {i: value}}`` from ``units_0=..``-style keywords; others refused."""
    out = {base: {} for base in allowed}
    for name, value in per_layer.items():
        if name == "params":  # SciKeras gives every parameter to a **kwargs builder
            continue
        split = split_layer_name(name)
        if split is None or split[0] not in allowed:
            raise TypeError(
                f"{builder}() got an unexpected keyword argument {name!r}; per-layer "
                f"values are {', '.join(f'{base}_<i>' for base in allowed)}."
            )
        out[split[0]][split[1]] = value
    return out


def _layers(n_layers, values, default):
    """Each layer's value: ``values[i]`` (from ``name_i``), else the default
    (an int, or a tuple whose last entry repeats).  Values of layers beyond
    ``n_layers`` are ignored."""
    if not isinstance(default, numbers.Real):  # numpy numbers (a searched value) too
        default = tuple(default)
        default = [default[min(i, len(default) - 1)] for i in range(n_layers)]
    else:
        default = [default] * n_layers
    return [values.get(i, default[i]) for i in range(n_layers)]


def _dense_block(x, units, activation, dropout, batch_normalization, l2):
    regularizer = keras.regularizers.L2(l2) if l2 else None
    x = keras.layers.Dense(units, kernel_regularizer=regularizer)(x)
    if batch_normalization:
        x = keras.layers.BatchNormalization()(x)
    x = keras.layers.Activation(activation)(x)
    if dropout:
        x = keras.layers.Dropout(dropout)(x)
    return x


def _output(x, meta, compile_kwargs):
    """The output layer and the loss of the task, compiled."""
    loss = compile_kwargs.get("loss")
    if "n_classes_" in meta:  # a classifier
        target = meta.get("target_type_", "multiclass")
        if target == "binary":
            outputs, default_loss = keras.layers.Dense(1, activation="sigmoid")(x), "binary_crossentropy"
        elif target == "multilabel-indicator":
            units = meta["n_classes_"]  # one column per label
            outputs = keras.layers.Dense(units, activation="sigmoid")(x)
            default_loss = "binary_crossentropy"
        elif target == "multiclass":
            outputs = keras.layers.Dense(meta["n_classes_"], activation="softmax")(x)
            default_loss = "sparse_categorical_crossentropy"
        else:
            raise ValueError(
                f"The ready-made networks do not support {target!r} targets; pass "
                "your own model= builder."
            )
    else:
        units = meta.get("n_outputs_", 1)  # one column per target
        outputs, default_loss = keras.layers.Dense(units)(x), "mean_squared_error"
    return outputs, (loss if loss is not None else default_loss)


def _compile(inputs, outputs, loss, compile_kwargs):
    model = keras.Model(inputs, outputs)
    model.compile(**{**compile_kwargs, "loss": loss})
    return model


def dense_network(
    meta,
    compile_kwargs,
    hidden_layer_sizes=(100,),
    n_layers=None,
    units=64,
    activation="relu",
    dropout=0.0,
    batch_normalization=False,
    l2=0.0,
    **per_layer,
):
    """A fully connected network for tabular data.

    Parameters
    ----------
    meta, compile_kwargs : dict
        Given by SciKeras.
    hidden_layer_sizes : int or tuple of int, default=(100,)
        Units of each hidden layer, as in scikit-learn's MLP.
    n_layers : int, default=None
        If given, ``n_layers`` hidden layers replace ``hidden_layer_sizes``,
        layer ``i`` with ``units_i`` units (``units`` if not given): the
        form to search depth and width as numbers.
    units : int, default=64
        Units per hidden layer with ``n_layers``, where ``units_i`` is not
        given.
    activation : str, default="relu"
        Activation of the hidden layers.
    dropout : float, default=0.0
        Dropout rate after each hidden layer; ``dropout_i`` after layer
        ``i`` (with ``n_layers``).
    batch_normalization : bool, default=False
        Batch normalisation before each activation.
    l2 : float, default=0.0
        L2 penalty on the hidden layers' weights.
    **per_layer
        ``units_i`` and ``dropout_i`` for layer ``i`` (counted from 0) of
        ``n_layers``; searched with ``sk_hpo.PerLayer``.
    """
    values = _per_layer("dense_network", per_layer, ("units", "dropout"))
    if n_layers is not None:
        n = int(n_layers)
        sizes = [int(u) for u in _layers(n, values["units"], units)]
        dropouts = _layers(n, values["dropout"], dropout)
    else:
        sizes = _hidden_sizes(hidden_layer_sizes)
        dropouts = [dropout] * len(sizes)
    inputs = keras.Input(shape=tuple(meta["X_shape_"][1:]))
    x = keras.layers.Flatten()(inputs) if len(meta["X_shape_"]) > 2 else inputs
    for size, rate in zip(sizes, dropouts):
        x = _dense_block(x, size, activation, rate, batch_normalization, l2)
    outputs, loss = _output(x, meta, compile_kwargs)
    return _compile(inputs, outputs, loss, compile_kwargs)


def conv_network(
    meta,
    compile_kwargs,
    filters=(32, 64),
    kernel_size=3,
    pooling="max",
    dense_units=(64,),
    activation="relu",
    dropout=0.0,
    batch_normalization=False,
    image_shape=None,
    n_conv_layers=None,
    n_dense_layers=None,
    **per_layer,
):
    """A small convolutional network for images.

    ``X`` may hold images as ``(n, height, width)`` or ``(n, height, width,
    channels)`` arrays, or flattened rows (as ``load_digits`` gives them),
    which are reshaped to ``image_shape``: square single-channel images by
    default.

    Parameters
    ----------
    meta, compile_kwargs : dict
        Given by SciKeras.
    filters : int or tuple of int, default=(32, 64)
        Filters of each convolution block (convolution, optional batch
        normalisation, activation, pooling while the image is larger than
        one pixel).
    kernel_size : int, default=3
        Side of the convolution kernels.
    pooling : {"max", "average"}, default="max"
        2x2 pooling after each block.
    dense_units : int or tuple of int, default=(64,)
        Hidden layers of the dense head.
    activation : str, default="relu"
        Activation of every convolution block and dense layer.
    dropout : float, default=0.0
        Dropout rate after the convolutions and each dense layer.
    batch_normalization : bool, default=False
        Batch normalisation before each activation.
    image_shape : tuple of int, default=None
        ``(height, width)`` or ``(height, width, channels)`` of flattened
        rows.
    n_conv_layers : int, default=None
        If given, the number of convolution blocks, block ``i`` with
        ``filters_i`` filters (else ``filters``, or its last entry).
    n_dense_layers : int, default=None
        If given, the number of dense layers of the head, layer ``i`` with
        ``dense_units_i`` units (else ``dense_units``, or its last entry).
    **per_layer
        ``filters_i`` and ``dense_units_i``, counted from 0; searched with
        ``sk_hpo.PerLayer(..., count="model__n_conv_layers")``.
    """
    values = _per_layer("conv_network", per_layer, ("filters", "dense_units"))
    if n_conv_layers is not None:
        filters = _layers(int(n_conv_layers), values["filters"], filters)
    if n_dense_layers is not None:
        dense_units = _layers(int(n_dense_layers), values["dense_units"], dense_units)
    shape = tuple(meta["X_shape_"][1:])
    inputs = keras.Input(shape=shape)
    x = inputs
    if len(shape) == 1:
        if image_shape is None:
            side = math.isqrt(shape[0])
            if side * side != shape[0]:
                raise ValueError(
                    f"conv_network: rows of {shape[0]} features are not square images; "
                    "give model__image_shape=(height, width[, channels])."
                )
            image_shape = (side, side)
        x = keras.layers.Reshape(tuple(image_shape) + ((1,) if len(image_shape) == 2 else ()))(x)
    elif len(shape) == 2:
        x = keras.layers.Reshape(shape + (1,))(x)
    pool = {"max": keras.layers.MaxPooling2D, "average": keras.layers.AveragePooling2D}[pooling]
    for n_filters in _hidden_sizes(filters):
        x = keras.layers.Conv2D(n_filters, kernel_size, padding="same")(x)
        if batch_normalization:
            x = keras.layers.BatchNormalization()(x)
        x = keras.layers.Activation(activation)(x)
        if min(x.shape[1:3]) >= 2:
            x = pool(2)(x)
    x = keras.layers.Flatten()(x)
    if dropout:
        x = keras.layers.Dropout(dropout)(x)
    for size in _hidden_sizes(dense_units):
        x = _dense_block(x, size, activation, dropout, batch_normalization, 0.0)
    outputs, loss = _output(x, meta, compile_kwargs)
    return _compile(inputs, outputs, loss, compile_kwargs)


dense_network.per_layer_parameters = ("units", "dropout")
conv_network.per_layer_parameters = ("filters", "dense_units")

BUILDERS = {"dense": dense_network, "conv": conv_network}
