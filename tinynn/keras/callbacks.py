"""Keras callbacks: hooks that ``fit`` calls around epochs; ``History`` records the metrics."""
import math

import numpy as np

from .. import distributed
from ..files import check_writable
from ..training import History as _History


class Callback:
    model = None

    def set_model(self, model):
        self.model = model

    def on_train_begin(self, logs=None):
        pass

    def on_train_end(self, logs=None):
        pass

    def on_epoch_begin(self, epoch, logs=None):
        pass

    def on_epoch_end(self, epoch, logs=None):
        pass

    def on_train_batch_end(self, batch, logs=None):
        pass


class History(Callback, _History):
    """``model.fit(...).history`` is {'loss': [...], 'accuracy': [...], 'val_loss': [...], ...}."""

    def __init__(self):
        _History.__init__(self)
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        self.append(**(logs or {}))


class _Monitor(Callback):
    """Tracks the best value of a logged metric ('val_loss', 'accuracy', ...)."""

    def __init__(self, monitor, mode, min_delta):
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"{type(self).__name__}: expected mode 'auto', 'min' or 'max', got {mode!r}")
        if mode == "auto":
            mode = "max" if "acc" in monitor else "min"
        self.monitor, self.mode, self.min_delta = monitor, mode, abs(min_delta)
        self.best = math.inf if mode == "min" else -math.inf

    def current(self, logs):
        if self.monitor not in (logs or {}):
            raise KeyError(f"{type(self).__name__}: metric {self.monitor!r} is not logged; "
                           f"available: {sorted(logs or {})} (val_* needs validation data)")
        return logs[self.monitor]

    def improved(self, value):
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta


class EarlyStopping(_Monitor):
    """Stop when ``monitor`` has not improved for ``patience`` epochs."""

    def __init__(self, monitor="val_loss", min_delta=0, patience=0, mode="auto",
                 restore_best_weights=False):
        super().__init__(monitor, mode, min_delta)
        self.patience, self.restore_best_weights = patience, restore_best_weights
        self.wait, self.stopped_epoch, self.best_weights = 0, 0, None

    def on_epoch_end(self, epoch, logs=None):
        """Keras 3's rule: count the epoch, reset on an improvement, stop once ``wait``
        reaches ``patience`` (never after the first epoch)."""
        value = self.current(logs)
        self.wait += 1
        if self.improved(value):
            self.best, self.wait = value, 0
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True
            if self.restore_best_weights and self.best_weights is not None:
                self.model.set_weights(self.best_weights)


class ReduceLROnPlateau(_Monitor):
    """Multiply the learning rate by ``factor`` after ``patience`` epochs without improvement."""

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, mode="auto", min_delta=1e-4,
                 cooldown=0, min_lr=0.0):
        if factor >= 1.0:
            raise ValueError(f"ReduceLROnPlateau: expected factor < 1.0, got {factor}")
        super().__init__(monitor, mode, min_delta)
        self.factor, self.patience, self.cooldown, self.min_lr = factor, patience, cooldown, min_lr
        self.wait = self.cooldown_counter = 0

    def on_epoch_end(self, epoch, logs=None):
        value = self.current(logs)
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if self.improved(value):
            self.best, self.wait = value, 0
        elif self.cooldown_counter <= 0:
            self.wait += 1
            if self.wait >= self.patience:
                optimizer = self.model.optimizer
                optimizer.learning_rate = max(optimizer.learning_rate * self.factor, self.min_lr)
                self.cooldown_counter, self.wait = self.cooldown, 0
        logs["learning_rate"] = self.model.optimizer.learning_rate


class LearningRateScheduler(Callback):
    """Set the learning rate to ``schedule(epoch, lr)`` at the start of every epoch."""

    def __init__(self, schedule):
        self.schedule = schedule

    def on_epoch_begin(self, epoch, logs=None):
        optimizer = self.model.optimizer
        optimizer.learning_rate = float(self.schedule(epoch, optimizer.learning_rate))


class ModelCheckpoint(_Monitor):
    """Save the model's weights (``.npz``) after every epoch, or only when ``monitor`` improves."""

    def __init__(self, filepath, monitor="val_loss", save_best_only=False, mode="auto"):
        super().__init__(monitor, mode, 0.0)
        self.filepath, self.save_best_only = str(filepath), save_best_only
        check_writable(self.filepath, "ModelCheckpoint")      # now, not after the first epoch

    def on_epoch_end(self, epoch, logs=None):
        """Every rank of a data-parallel job decides alike (the logs are averaged over the
        ranks); only rank 0 writes, atomically."""
        path = self.filepath.format(epoch=epoch + 1, **(logs or {}))
        if not self.save_best_only:
            self._save(path)
            return
        value = self.current(logs)
        if self.improved(value) and np.isfinite(value):
            self.best = value
            self._save(path)

    def _save(self, path):
        if not distributed.is_initialized() or distributed.get_rank() == 0:
            self.model.save(path)
