python scripts/experiments/superres_ceiling.py --data ../shared/data/cifar10.npz --all-categories --epochs 6 --batch-size 50 --save outputs/superres_ceiling_all.pt --overwrite
