"""Knowledge distillation (seed 001 §3.2; Hinton, Vinyals & Dean 2015): a small student learns
from a large teacher's softened outputs as well as from the labels.

    L = α · T² · KL( softmax(t / T) ‖ softmax(s / T) )  +  (1 − α) · CE(s, y)

s and t are the student's and teacher's logits, T the temperature (T > 1 softens the
teacher's distribution, so that the relative sizes of its wrong-class probabilities, its
"dark knowledge", carry signal), and T² keeps the soft term's gradient on the scale of the
hard one.  The KL divergence is averaged over the batch (``reduction='batchmean'``); the
teacher is a constant: no gradient flows into it.
"""
import math

from ..autograd import no_grad
from ..nn import functional as F
from ..tensor import Tensor

__all__ = ["distillation_loss", "distill_epoch"]


def distillation_loss(student_logits, teacher_logits, target, temperature=4.0, alpha=0.9):
    """α·T²·KL(softmax(t/T) ‖ softmax(s/T)) + (1−α)·CE(s, target), logits of shape (N, C)."""
    for name, logits in (("student_logits", student_logits), ("teacher_logits", teacher_logits)):
        if not isinstance(logits, Tensor) or logits.ndim != 2:
            raise ValueError(f"distillation_loss: expected {name} of shape (N, C), got "
                             f"{getattr(logits, 'shape', type(logits).__name__)}")
    if student_logits.shape != teacher_logits.shape:
        raise ValueError(f"distillation_loss: student logits {student_logits.shape} and teacher "
                         f"logits {teacher_logits.shape} must have the same shape")
    if not (isinstance(temperature, (int, float)) and math.isfinite(temperature) and temperature > 0):
        raise ValueError(f"distillation_loss: expected a temperature > 0, got {temperature}")
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"distillation_loss: expected alpha in [0, 1], got {alpha}")
    soft_student = F.log_softmax(student_logits / temperature, dim=1)
    soft_teacher = F.log_softmax(teacher_logits.detach() / temperature, dim=1)
    soft = F.kl_div(soft_student, soft_teacher, reduction="batchmean", log_target=True)
    hard = F.cross_entropy(student_logits, target)
    return alpha * temperature ** 2 * soft + (1 - alpha) * hard


def distill_epoch(student, teacher, loader, optimizer, temperature=4.0, alpha=0.9):
    """One epoch of training ``student`` on ``loader``'s (inputs, labels) against a frozen
    ``teacher`` (evaluation mode, no graph); returns the mean loss."""
    teacher.eval()
    student.train()
    total, seen = 0.0, 0
    for inputs, labels in loader:
        with no_grad():
            teacher_logits = teacher(inputs)
        optimizer.zero_grad()
        loss = distillation_loss(student(inputs), teacher_logits, labels, temperature, alpha)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(inputs)
        seen += len(inputs)
    return total / max(seen, 1)
