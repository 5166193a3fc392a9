"""One LSTM step, written the way tutorial notebooks write it.

Column vectors: x is (D, 1), h and c are (H, 1). Each gate has its own weight matrix
``W*`` of shape (H, D + H), acting on the stacked column ``np.vstack([x, h])`` (input
first, then the previous hidden state), and its own bias column ``b*`` of shape (H, 1).
``forward`` keeps what ``backward`` needs, as notebooks do.

Nothing here knows about rnn-conformance: this is the code under test.
"""

from __future__ import annotations

import numpy as np


def sigmoid(z):
    # σ(z) written through tanh: equal to 1 / (1 + exp(-z)), but it cannot overflow.
    return 0.5 * (1 + np.tanh(0.5 * z))


class LSTMCell:
    def __init__(self, input_size, hidden_size, seed=0):
        rng = np.random.default_rng(seed)
        D, H = input_size, hidden_size
        scale = 1 / np.sqrt(D + H)
        self.Wf, self.bf = rng.normal(0, scale, (H, D + H)), np.ones((H, 1))
        self.Wi, self.bi = rng.normal(0, scale, (H, D + H)), np.zeros((H, 1))
        self.Wc, self.bc = rng.normal(0, scale, (H, D + H)), np.zeros((H, 1))
        self.Wo, self.bo = rng.normal(0, scale, (H, D + H)), np.zeros((H, 1))

    def forward(self, x, h_prev, c_prev):
        """One step: returns (h, c), each (H, 1)."""
        z = np.vstack([x, h_prev])
        self.f = sigmoid(self.Wf @ z + self.bf)
        self.i = sigmoid(self.Wi @ z + self.bi)
        self.c_tilde = np.tanh(self.Wc @ z + self.bc)
        self.o = sigmoid(self.Wo @ z + self.bo)
        c = self.f * c_prev + self.i * self.c_tilde
        h = self.o * np.tanh(c)
        self.cache = (z, c_prev, c)
        return h, c

    def backward(self, dh, dc):
        """Gradients of the last ``forward`` step, given dL/dh and dL/dc (each (H, 1)).

        Returns a dict: ``dx``, ``dh_prev``, ``dc_prev`` and ``dWf``, ``dbf``, … for
        every gate.
        """
        z, c_prev, c = self.cache
        f, i, c_tilde, o = self.f, self.i, self.c_tilde, self.o
        D = z.shape[0] - dh.shape[0]
        tanh_c = np.tanh(c)
        dc = dc + dh * o * (1 - tanh_c**2)
        da_f = dc * c_prev * f * (1 - f)
        da_i = dc * c_tilde * i * (1 - i)
        da_c = dc * i * (1 - c_tilde**2)
        da_o = dh * tanh_c * o * (1 - o)
        dz = self.Wf.T @ da_f + self.Wi.T @ da_i + self.Wc.T @ da_c + self.Wo.T @ da_o
        return {
            "dx": dz[:D],
            "dh_prev": dz[D:],
            "dc_prev": dc * f,
            "dWf": da_f @ z.T, "dbf": da_f,
            "dWi": da_i @ z.T, "dbi": da_i,
            "dWc": da_c @ z.T, "dbc": da_c,
            "dWo": da_o @ z.T, "dbo": da_o,
        }
