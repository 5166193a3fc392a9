"""An LSTM cell as tutorial notebooks write it, and its rnn-conformance adapter.

``notebook_lstm.cell`` is the model code and knows nothing of the harness;
``notebook_lstm.backend`` maps the spec's canonical inputs onto it and registers the
``notebook-lstm`` backend through the ``conformance.backends`` entry point.
"""

from notebook_lstm.cell import LSTMCell

__all__ = ["LSTMCell"]
