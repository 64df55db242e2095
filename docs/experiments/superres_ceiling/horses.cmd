python scripts/experiments/superres_ceiling.py --epochs 20
