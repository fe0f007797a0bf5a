"""From-scratch numpy layers, update rules and gradient checks; never imports torch.

Layers are pure function pairs `*_forward(...) -> (out, cache)`, `*_backward(dout, cache)`.
"""

from vislab.numpy_nn.attention_lstm_layers import (
    attention_lstm_backward,
    attention_lstm_forward,
    attention_lstm_step_backward,
    attention_lstm_step_forward,
    soft_attention_backward,
    soft_attention_forward,
)
from vislab.numpy_nn.gradcheck import (
    eval_numerical_gradient,
    eval_numerical_gradient_array,
    rel_error,
)
from vislab.numpy_nn.layers import (
    affine_backward,
    affine_forward,
    sigmoid,
    temporal_affine_backward,
    temporal_affine_forward,
    temporal_softmax_loss,
    word_embedding_backward,
    word_embedding_forward,
)
from vislab.numpy_nn.lstm_layers import (
    lstm_backward,
    lstm_forward,
    lstm_step_backward,
    lstm_step_forward,
)
from vislab.numpy_nn.optim import adam, rmsprop, sgd, sgd_momentum
from vislab.numpy_nn.rnn_layers import (
    rnn_backward,
    rnn_forward,
    rnn_step_backward,
    rnn_step_forward,
)

__all__ = [
    "adam",
    "affine_backward",
    "affine_forward",
    "attention_lstm_backward",
    "attention_lstm_forward",
    "attention_lstm_step_backward",
    "attention_lstm_step_forward",
    "eval_numerical_gradient",
    "eval_numerical_gradient_array",
    "lstm_backward",
    "lstm_forward",
    "lstm_step_backward",
    "lstm_step_forward",
    "rel_error",
    "rmsprop",
    "rnn_backward",
    "rnn_forward",
    "rnn_step_backward",
    "rnn_step_forward",
    "sgd",
    "sgd_momentum",
    "sigmoid",
    "soft_attention_backward",
    "soft_attention_forward",
    "temporal_affine_backward",
    "temporal_affine_forward",
    "temporal_softmax_loss",
    "word_embedding_backward",
    "word_embedding_forward",
]
