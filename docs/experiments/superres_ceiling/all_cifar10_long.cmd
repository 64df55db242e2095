python scripts/experiments/superres_ceiling.py --data ../shared/data/cifar10.npz --all-categories --epochs 20 --batch-size 50 --save outputs/superres_ceiling_all_long.pt --overwrite
