python colorization.py --model UNet --recipe fast -s 1 --experiment-name exp_recipes_fast_seed_1 --overwrite
