"""Keras' learning-rate schedules (``keras.optimizers.schedules``): γ as a function of the
optimiser's step count, passed as ``learning_rate=`` to any Keras optimiser.

    ExponentialDecay         γ₀ · r^(t / T)                    (⌊t / T⌋ with staircase)
    InverseTimeDecay         γ₀ / (1 + r · t / T)              (⌊t / T⌋ with staircase)
    PiecewiseConstantDecay   values[i] while t ≤ boundaries[i], values[-1] after
    CosineDecay              γ₀ · ((1 - α) · ½ (1 + cos(π · min(t, T) / T)) + α)
"""
import bisect
import math

__all__ = ["LearningRateSchedule", "ExponentialDecay", "InverseTimeDecay", "PiecewiseConstantDecay",
           "CosineDecay"]


class LearningRateSchedule:
    def __call__(self, step):
        raise NotImplementedError


class ExponentialDecay(LearningRateSchedule):
    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False):
        self.initial, self.steps, self.rate, self.staircase = initial_learning_rate, decay_steps, decay_rate, staircase

    def __call__(self, step):
        exponent = step / self.steps
        return self.initial * self.rate ** (math.floor(exponent) if self.staircase else exponent)


class InverseTimeDecay(ExponentialDecay):
    def __call__(self, step):
        ratio = step / self.steps
        return self.initial / (1 + self.rate * (math.floor(ratio) if self.staircase else ratio))


class PiecewiseConstantDecay(LearningRateSchedule):
    def __init__(self, boundaries, values):
        if len(values) != len(boundaries) + 1:
            raise ValueError(f"PiecewiseConstantDecay: expected one more value than boundaries, got "
                             f"{len(boundaries)} boundaries and {len(values)} values")
        self.boundaries, self.values = list(boundaries), list(values)

    def __call__(self, step):
        return self.values[bisect.bisect_left(self.boundaries, step)]


class CosineDecay(LearningRateSchedule):
    def __init__(self, initial_learning_rate, decay_steps, alpha=0.0):
        self.initial, self.steps, self.alpha = initial_learning_rate, decay_steps, alpha

    def __call__(self, step):
        cosine = 0.5 * (1 + math.cos(math.pi * min(step, self.steps) / self.steps))
        return self.initial * ((1 - self.alpha) * cosine + self.alpha)
