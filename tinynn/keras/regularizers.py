"""Weight penalties added to the loss, as Keras defines them: l1 = λ Σ|w|, l2 = λ Σ w²."""


class Regularizer:
    def __init__(self, l1=0.0, l2=0.0):
        self.l1, self.l2 = float(l1), float(l2)

    def __call__(self, weight):
        penalty = 0.0
        if self.l1:
            penalty = penalty + self.l1 * weight.abs().sum()
        if self.l2:
            penalty = penalty + self.l2 * (weight * weight).sum()
        return penalty

    def __repr__(self):
        return f"Regularizer(l1={self.l1}, l2={self.l2})"


def l1(l1=0.01):
    return Regularizer(l1=l1)


def l2(l2=0.01):
    return Regularizer(l2=l2)


def l1_l2(l1=0.01, l2=0.01):
    return Regularizer(l1=l1, l2=l2)


L1, L2, L1L2 = l1, l2, l1_l2
