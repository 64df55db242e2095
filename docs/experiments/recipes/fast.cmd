python colorization.py --model UNet --recipe fast --experiment-name exp_recipes_fast --overwrite
