"""The documents' example networks, with the layer names of the seeds' PyTorch code."""
from .mlp import MLP  # noqa: F401
from .lenet import LeNet5  # noqa: F401
from .keras_cnn import KerasMNISTCNN, KerasCIFARCNN  # noqa: F401
from .resnet import BasicBlock, ResNet, resnet18  # noqa: F401
from .mobilenet import InvertedResidual, MobileNetV2, mobilenet_v2  # noqa: F401
from .transformer import TinyTransformer  # noqa: F401

MODELS = {
    "mlp": MLP, "lenet": LeNet5, "keras_mnist_cnn": KerasMNISTCNN, "keras_cifar_cnn": KerasCIFARCNN,
    "resnet18": resnet18, "mobilenet_v2": mobilenet_v2,
}
