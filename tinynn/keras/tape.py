"""``GradientTape``: seed 001's hand-written TensorFlow loop on tinynn's autograd.

tinynn records every op anyway, so the tape only scopes the computation and
turns ``loss.backward()`` into the list of gradients TensorFlow returns::

    with GradientTape() as tape:
        loss = loss_fn(y, model(x))
    grads = tape.gradient(loss, model.trainable_variables)
    optimizer.apply_gradients(zip(grads, model.trainable_variables))
"""


class GradientTape:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def gradient(self, target, sources):
        sources = list(sources)
        for source in sources:
            source.grad = None
        target.backward()
        grads = [source.grad for source in sources]
        for source in sources:
            source.grad = None
        return grads
