"""Seed 002: LeNet in PyTorch, unchanged except the three imports.

Trained on the bundled 8×8 digits upsampled to the 32×32 input the seed's 16*5*5 expects.
"""
import tinynn as torch
import tinynn.nn as nn
import tinynn.nn.functional as F
from _synthetic import QUICK


class ConvNet(nn.Module):
    def __init__(self):
        super(ConvNet, self).__init__()
        self.conv1 = nn.Conv2d(1, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = x.view(-1, 16 * 5 * 5)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        x = self.fc3(x)
        return x


torch.manual_seed(0)
images, labels = torch.data.load_digits(image_size=32)
train = torch.data.TensorDataset(images[:1500], labels[:1500])
test_x, test_y = torch.tensor(images[1500:]), torch.tensor(labels[1500:])
loader = torch.data.DataLoader(train, batch_size=32, shuffle=True)

net = ConvNet()
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
for epoch in range(1 if QUICK else 6):
    for inputs, targets in loader:
        optimizer.zero_grad()
        loss = criterion(net(inputs), targets)
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        accuracy = (net(test_x).argmax(1) == test_y).float().mean().item()
    print(f'epoch {epoch + 1}: loss {loss.item():.4f}, test accuracy {accuracy:.3f}')
