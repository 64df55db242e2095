python colorization.py --model UNet --recipe fast -l 0.001 --experiment-name exp_recipes_fast_lr_0.001 --overwrite
