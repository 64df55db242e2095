python scripts/experiments/superres_ceiling.py --init outputs/superres_ceiling_all.pt --epochs 10 --learn-rate 5e-4 --save outputs/superres_ceiling_fine_tuned.pt --overwrite
