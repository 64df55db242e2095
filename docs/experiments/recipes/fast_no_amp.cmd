python colorization.py --model UNet --recipe fast --no-amp --experiment-name exp_recipes_fast_no_amp --overwrite
