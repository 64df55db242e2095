python colorization.py --model UNet --recipe fast -b 100 --experiment-name exp_recipes_fast_batch_100 --overwrite
