python colorization.py --model UNet --recipe fast -s 2 --experiment-name exp_recipes_fast_seed_2 --overwrite
