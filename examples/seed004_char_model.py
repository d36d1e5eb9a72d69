"""A character-level language model (seeds 000, 003, 004: recurrent networks for sequences).

The text is the Python reference documentation that ships with every CPython
(``pydoc_data.topics``: what ``help("assert")`` prints), about 465,000 characters. An
embedding, an LSTM and a linear layer learn to predict each next character; the model is
judged by its perplexity on the last tenth of the text, which it never trains on
(perplexity = exp(mean cross-entropy): how many characters it is still choosing among), and
then writes some text of its own.

    python examples/seed004_char_model.py
"""
import math
import time

import numpy as np

import tinynn
import tinynn.nn as nn
import tinynn.nn.functional as F
from _synthetic import QUICK
from pydoc_data.topics import topics

STEPS, SEQUENCE, BATCH, HIDDEN = (30, 32, 16, 64) if QUICK else (1300, 64, 32, 256)

text = "\n".join(topics[key] for key in sorted(topics))
text = "".join(c if " " <= c <= "~" or c == "\n" else "?" for c in text)   # printable ASCII
alphabet = sorted(set(text))
codes = \
    np.searchsorted(np.array(alphabet), np.array(list(text)))
cut = len(codes) * 9 // 10
train, held_out = codes[:cut], codes[cut:]


class CharLSTM(nn.Module):
    def __init__(self, vocabulary, hidden):
        super().__init__()
        self.embed = nn.Embedding(vocabulary, 32)
        self.lstm = nn.LSTM(32, hidden, batch_first=True)
        self.head = nn.Linear(hidden, vocabulary)

    def forward(self, codes, state=None):
        output, state = self.lstm(self.embed(codes), state)
        return self.head(output), state


def batch_of_windows(rng):
    starts = rng.integers(0, len(train) - SEQUENCE - 1, BATCH)
    windows = np.stack([train[s:s + SEQUENCE + 1] for s in starts])
    return tinynn.tensor(windows[:, :-1]), tinynn.tensor(windows[:, 1:])


def held_out_perplexity(model, length=20_000):
    """exp(mean cross-entropy) over the held-out text, read in order with the state carried."""
    codes = held_out[:length + 1]
    with tinynn.no_grad():
        logits, _ = model(tinynn.tensor(codes[None, :-1]))
        loss = F.cross_entropy(logits.reshape(-1, len(alphabet)), tinynn.tensor(codes[1:]))
    return math.exp(float(loss))


def sample(model, prompt, length, rng):
    state, codes = None, [alphabet.index(c) for c in prompt]
    with tinynn.no_grad():
        logits, state = model(tinynn.tensor(np.array([codes])), state)
        for _ in range(length):
            p = F.softmax(logits[0, -1] / 0.7, dim=0).numpy().astype(np.float64)
            codes.append(int(rng.choice(len(alphabet), p=p / p.sum())))
            logits, state = model(tinynn.tensor(np.array([[codes[-1]]])), state)
    return "".join(alphabet[c] for c in codes)


tinynn.manual_seed(0)
rng = np.random.default_rng(0)
model = CharLSTM(len(alphabet), HIDDEN)
optimizer = tinynn.optim.Adam(model.parameters(), lr=3e-3)
print(f"{len(text):,} characters of Python's reference documentation, {len(alphabet)} symbols; "
      f"uniform guessing has perplexity {len(alphabet)}")
start = time.perf_counter()
for step in range(1, STEPS + 1):
    x, y = batch_of_windows(rng)
    logits, _ = model(x)
    loss = F.cross_entropy(logits.reshape(-1, len(alphabet)), y.reshape(-1))
    optimizer.zero_grad()
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    if step % max(1, STEPS // 5) == 0:
        print(f"step {step:5d}: training loss {float(loss):.3f}  ({time.perf_counter() - start:.0f} s)")
model.eval()
perplexity = held_out_perplexity(model, 2_000 if QUICK else 20_000)
print(f"held-out perplexity {perplexity:.2f} ({math.log2(perplexity):.2f} bits per character) after "
      f"{STEPS} steps, {time.perf_counter() - start:.0f} s")
print("sample:", sample(model, "The ", 200 if not QUICK else 20, rng))
